// What one round costs per dispatch, on both sides of the socket:
//   clientCpuUs  the dispatching process's CPU (process.cpuUsage, user + system, every thread) over the round: the
//                app process hosting a remote contender (hosts.js), else the bench's own
//   benchCpuUs   with a remote contender, the bench process's CPU over the round (waiting, counting replies)
//   redisCmdUs   Redis command time (INFO commandstats `usec`, after CONFIG RESETSTAT), top-level commands only
//   redisCalls   top-level commands (PING aside) per dispatch: 1 for a PUBLISH each, 1/batch size for batched scripts
//   redisCpuUs   Redis main-thread CPU (INFO cpu used_cpu_{sys,user}_main_thread delta; whole process if absent)
//   ceiling      1e6 / redisCpuUs: messages per second one Redis core could carry at this cost per message
// Everything is divided by the round's dispatches. The admin connection's own CONFIG and INFO are left out.
// Commandstats also counts every command a script (EVAL*, FCALL*) or MULTI/EXEC ran, and that time is
// already inside the script's or EXEC's own `usec`: in a round where one of those ran, only they (and PING)
// are summed, or the script's work would count twice.
const CONTAINERS = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro|exec)$/;
const ADMIN = /^(config|info)(\||$)/;

/** Parses `INFO commandstats` into { name: { calls, usec } } (subcommands as `config|resetstat`). */
export function parseCommandStats(info) {
  const stats = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return stats;
}

/** Seconds of Redis main-thread CPU so far, from `INFO cpu` (the whole process's before Redis 6.2.5). */
export function parseRedisCpu(info) {
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  const main = field('used_cpu_sys_main_thread') + field('used_cpu_user_main_thread');
  return Number.isFinite(main) ? main : field('used_cpu_sys') + field('used_cpu_user');
}

/** The top-level commands of `stats`: in a round where a script or EXEC ran, only those and PING (see the header). */
function topLevel(stats) {
  const names = Object.keys(stats).filter((name) => !ADMIN.test(name));
  const contained = names.some((name) => CONTAINERS.test(name));
  return names.filter((name) => !contained || CONTAINERS.test(name) || name === 'ping');
}

/** Top-level command time in µs: script and EXEC time includes the commands they ran (see the header). */
export function commandUsec(stats) {
  return topLevel(stats).reduce((sum, name) => sum + stats[name].usec, 0);
}

/** Top-level commands run, PINGs left out (the bench's and the original's settle() send them). */
export function commandCalls(stats) {
  return topLevel(stats)
    .filter((name) => name !== 'ping')
    .reduce((sum, name) => sum + stats[name].calls, 0);
}

/** Measures one round: `await meter.start()` just before it, `await meter.stop(dispatches)` right after. */
export class CostMeter {
  /** `admin`: an ioredis client of the bench's own, used for nothing else during the round. */
  constructor(admin) {
    this.admin = admin;
  }

  async start() {
    await this.admin.call('CONFIG', 'RESETSTAT');
    this.redisCpu = parseRedisCpu(await this.admin.call('INFO', 'cpu'));
    this.cpu = process.cpuUsage();
  }

  /**
   * Returns { clientCpuUs, redisCmdUs, redisCalls, redisCpuUs, ceiling } per dispatch, and benchCpuUs with `remoteCpuUs`: the CPU
   * µs the process hosting the contender (hosts.js) spent on the round, which is then the client's.
   */
  async stop(dispatches, remoteCpuUs) {
    const cpu = process.cpuUsage(this.cpu);
    const info = await this.admin.call('INFO', 'commandstats', 'cpu');
    const stats = parseCommandStats(info);
    const redisCpuUs = ((parseRedisCpu(info) - this.redisCpu) * 1e6) / dispatches;
    const benchCpuUs = (cpu.user + cpu.system) / dispatches;
    return {
      clientCpuUs: remoteCpuUs === undefined ? benchCpuUs : remoteCpuUs / dispatches,
      ...(remoteCpuUs === undefined ? {} : { benchCpuUs }),
      redisCmdUs: commandUsec(stats) / dispatches,
      redisCalls: commandCalls(stats) / dispatches,
      redisCpuUs,
      ceiling: redisCpuUs > 0 ? 1e6 / redisCpuUs : NaN,
    };
  }
}
