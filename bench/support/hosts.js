// Where a scenario's contenders run. Every contender of the throughput, single, sync, sync-cpu and decorator
// scenarios runs in an application-like child process (app-process.js), never in the bench's own process (which
// counts, meters and reports), in one of two modes:
//   in-process  one process per build hosts all of the scenario's contenders, created and driven after each other
//               as an application would run them: raw ioredis, the original Dispatcher and nestjs-mesa share its
//               heap, its garbage collector and V8's optimisation of the code they share. With BENCH_BASELINE the
//               baseline build gets a process of its own with the same contenders (its raw ioredis and original
//               resolved from that checkout), and its ratios are taken against the raw ioredis of its own process.
//   isolated    one process per contender: raw ioredis and the original once, each build's nestjs-mesa contenders
//               alone in theirs; every ratio is against that one raw ioredis.
// With both modes, one set of rounds rotates through the contenders of both, so that the two are compared under the
// same load of the machine.
// Every app process runs with --expose-gc: drive.js has it collect garbage before every round (app-process.js `prepare`),
// so that no process carries a GC phase of its own through a scenario (bench/README.md, Modes). renewProcesses()
// (BENCH_FRESH_PROCESSES=1) replaces them all before every measured round but the first.
// Two builds never share a process: in one process, the build created first measured 2-3x the client CPU per
// dispatch of the other with both built from the same commit, so that comparison said nothing about the code.
import { fileURLToPath } from 'node:url';
import { buildsToCompare } from './builds.js';
import { LABELS } from './contenders.js';
import { exitOrKill, killAndWait, spawnTracked } from './processes.js';
import { rotate } from './stats.js';

export const MODES = ['in-process', 'isolated'];
/** What each mode means, for results.json and the report. */
export const MODE_TEXT = {
  'in-process': "one process per build hosts all of the scenario's contenders, run after each other as in an application",
  isolated: 'each contender in a process of its own',
};
const NESTJS_KEYS = new Set(['nestjs', 'decorated', 'manual']);
const SCRIPT = fileURLToPath(new URL('./app-process.js', import.meta.url));
const BUILD_LABELS = { nestjs: 'nestjs-mesa', decorated: '@Dispatch method', manual: 'dispatch() by hand' };

/** An app-process.js child hosting contenders of one build; closed when its last contender is, renewed by renew(). */
class AppProcess {
  /** `name` names the process's --cpu-prof profile, when nodeArgs ask for one. */
  static async start(build, url, nodeArgs, name) {
    const app = new AppProcess(build, url, nodeArgs, name);
    app.attach(await app.spawn());
    return app;
  }

  constructor(build, url, nodeArgs, name) {
    Object.assign(this, { build, url, nodeArgs, name });
    this.users = 0;
    this.nextId = 0;
    this.generation = 0;
    /** The create requests sent so far, sent again to a renewed process. */
    this.created = [];
  }

  async spawn() {
    const profile = `${this.name}${this.generation ? `-process${this.generation + 1}` : ''}.cpuprofile`;
    const args = this.nodeArgs.includes('--cpu-prof') ? [...this.nodeArgs, `--cpu-prof-name=${profile}`] : this.nodeArgs;
    const child = spawnTracked(process.execPath, ['--expose-gc', ...args, SCRIPT, this.build.dir, this.url], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`app process of ${this.build.name} exited with ${code}`)));
    });
    return child;
  }

  attach(child) {
    const { build } = this;
    const waiting = new Map();
    Object.assign(this, { child, waiting });
    child.on('message', (reply) => {
      const settle = waiting.get(reply.id);
      waiting.delete(reply.id);
      settle?.(reply);
    });
    child.on('exit', (code) => {
      for (const settle of waiting.values()) settle({ error: `app process of ${build.name} exited with ${code}` });
      waiting.clear();
    });
  }

  async create(request) {
    this.created.push(request);
    await this.request({ op: 'create', ...request });
  }

  /** Replaces the child with a new one (the old one is closed first) hosting the same contenders, created in the same order. */
  async renew() {
    await this.stop();
    this.generation++;
    this.attach(await this.spawn());
    for (const request of this.created) await this.request({ op: 'create', ...request });
  }

  async stop() {
    if (!this.child.connected) return killAndWait(this.child);
    await this.request({ op: 'close' }).catch(() => undefined);
    await exitOrKill(this.child, 10_000);
  }

  request(message) {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`app process of ${this.build.name} is gone`));
      const id = ++this.nextId;
      this.waiting.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
      this.child.send({ ...message, id });
    });
  }

  async release() {
    if (--this.users > 0) return;
    await this.stop();
  }
}

/** The result key of contender `base` of `build`: this checkout's keep their names, the baseline's are `baseline[-base]`. */
function resultKey(build, base) {
  if (build.name === 'nestjs') return base;
  return base === 'nestjs' ? build.name : `${build.name}-${base}`;
}

function labelOf(build, base) {
  if (build.name === 'nestjs') return LABELS[base];
  if (NESTJS_KEYS.has(base)) return `${BUILD_LABELS[base]} @ ${build.rev}`;
  return `${LABELS[base]}, beside @ ${build.rev}`; // in-process only: the baseline's own raw ioredis and original
}

/**
 * Starts the contenders `specs` ([{ key, sync? }], in the order an application would create them) in each of
 * `modes` ('in-process' | 'isolated') on Redis `url`, for this checkout and the BENCH_BASELINE build, for scenario
 * `scenario` (it names --cpu-prof profiles: `<scenario>-<mode>-<build>[-<contender>].cpuprofile`). Returns, in order,
 * { key, base, build, mode, label, host, refs, remote: true, run(request), settle(), close() }: `refs` maps a base key
 * ('raw', 'original', 'nestjs'...) to the key of the contender this one is compared with (its own process's raw
 * ioredis in-process). With several modes, every key (and ref) ends in `@<mode>`, so that one set of rounds
 * interleaves the modes; rounds.js forModes() splits the results again.
 */
export async function startContenders(specs, { scenario, modes, url, nodeArgs = [] }) {
  for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode} (${MODES.join(', ')})`);
  const contenders = [];
  try {
    for (const mode of modes) {
      const suffix = modes.length > 1 ? `@${mode}` : '';
      for (const build of buildsToCompare()) {
        const own = mode === 'isolated' && build.name !== 'nestjs' ? specs.filter((spec) => NESTJS_KEYS.has(spec.key)) : specs;
        const name = `${scenario}-${mode}-${build.name}`;
        const shared = mode === 'in-process' ? await AppProcess.start(build, url, nodeArgs, name) : undefined;
        const refs = Object.fromEntries(
          specs.map(({ key }) => [key, (mode === 'in-process' || NESTJS_KEYS.has(key) ? resultKey(build, key) : key) + suffix]),
        );
        for (const { key: base, sync = false } of own) {
          const app = shared ?? (await AppProcess.start(build, url, nodeArgs, `${name}-${base}`));
          app.users++;
          const key = resultKey(build, base) + suffix;
          await app.create({ name: key, key: base, sync });
          const run = (request) => app.request({ ...request, name: key });
          contenders.push({
            key,
            base,
            build: build.name,
            mode,
            label: labelOf(build, base),
            host: shared ? `${build.name} app process` : 'own process',
            refs,
            remote: true,
            run,
            settle: () => run({ op: 'settle' }),
            close: () => app.release(),
            app,
          });
        }
      }
    }
    contenders.renew = (round) => renewProcesses(contenders, round);
    return contenders;
  } catch (error) {
    for (const contender of contenders) await contender.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Replaces every app process hosting `contenders` with a new one hosting the same contenders (support/rounds.js calls
 * it before every measured round but the first, then warms them up again), started one after the other in an order
 * that rotates with `round`, so that no build keeps one process's state (see the header) for a whole scenario.
 */
export async function renewProcesses(contenders, round) {
  const apps = [...new Set(contenders.map((contender) => contender.app))];
  for (const app of rotate(apps, round)) await app.renew();
}
