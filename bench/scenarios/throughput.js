// Scenario 1: throughput without sync. 2 recipients, small JSON payload, N dispatches with 1,000 and then
// 10,000 in flight, the same recipient array every call; then again with 1,000 in flight and a new copy of the
// array per call (what most code does: `[a.id, b.id]`). A round ends when the channel subscriber has counted every
// envelope. Same for every contender. Per round, also the client CPU, Redis command time and Redis CPU per
// dispatch (support/cost.js) and the GC of the process hosting the contender; ratios to raw ioredis are taken
// round by round (contenders run back to back), then their median. `modes`: where the contenders run (hosts.js); with
// both, one set of rounds interleaves them and the results are split by mode.
import { closeAll, forModes, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { CostMeter } from '../support/cost.js';
import { driveRound } from '../support/drive.js';

const RATIOS = ['rate', 'clientCpuUs', 'redisCmdUs', 'redisCpuUs'];

export async function throughput({ config, redis, counter, modes }) {
  const { dispatches, inFlight, newArraysInFlight, recipients: recipientCount } = config.throughput;
  const recipients = Array.from({ length: recipientCount }, (_, i) => `u${i + 1}`);
  const admin = redis.client();
  const meter = new CostMeter(admin);
  let contenders = [];
  try {
    contenders = await startContenders([{ key: 'original' }, { key: 'raw' }, { key: 'nestjs' }], {
      scenario: 'throughput',
      modes,
      url: redis.url,
      nodeArgs: config.appNodeArgs,
    });
    const variants = inFlight.flatMap((chunk) => [
      { chunk, newArrays: false },
      ...(newArraysInFlight.includes(chunk) ? [{ chunk, newArrays: true }] : []),
    ]);
    const runs = Object.fromEntries(modes.map((mode) => [mode, []]));
    for (const { chunk, newArrays } of variants) {
      const name = `throughput ${chunk}${newArrays ? ' new arrays' : ''}`;
      const results = await runRounds(name, contenders, config.rounds, async (contender, index) => {
        const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
        const { rate, clientCpuUs, benchCpuUs, counterCpuUs, redisCmdUs, redisCalls, redisCpuUs, ceiling, gcUs, scavengeUs, scavenges } =
          await driveRound(contender, counter, { total, chunk, recipients, newArrays, what: `${name}/${contender.key}`, meter });
        return { rate, clientCpuUs, benchCpuUs, counterCpuUs, redisCmdUs, redisCalls, redisCpuUs, ceiling, gcUs, scavengeUs, scavenges };
      });
      const { byMode } = forModes(results, (group) => {
        ratiosTo(group, 'raw', RATIOS);
        for (const result of Object.values(group)) result.vsRaw = result.ratios.rate.median;
        return group;
      });
      for (const [mode, group] of Object.entries(byMode)) {
        runs[mode].push({ inFlight: chunk, recipientArrays: newArrays ? 'new' : 'same', contenders: group });
      }
    }
    const common = { dispatches, inFlight, recipients: recipientCount, rounds: config.rounds, interleavedModes: modes };
    return { byMode: Object.fromEntries(modes.map((mode) => [mode, { mode, modeText: MODE_TEXT[mode], ...common, runs: runs[mode] }])) };
  } finally {
    await closeAll('throughput', contenders);
    admin.disconnect();
  }
}
