// What the bench runs, from the environment. Every count is multiplied by BENCH_SCALE.
//   ROUNDS       measured rounds per contender (median reported); default 5, smoke 1
//   BENCH_SCALE  multiplies every count (0.01 = a quick look); default 1, smoke 0.01
//   BENCH_SMOKE  1 = every scenario at tiny scale, counting checked, results written to a temp dir
//   BENCH_ONLY   comma-separated scenario names to run (throughput,ceiling,sync,sync-cpu,single,decorator,memory,latency,backlog-blocking,telemetry)
//   BENCH_OUT    directory for results.json and chart.svg; default docs/bench (smoke: a temp dir)
//   BENCH_MODE   where the contenders of throughput, single, sync, sync-cpu and decorator run (support/hosts.js):
//                in-process (one process per build, all contenders after each other; the default), isolated (one
//                process per contender) or both (every one of those scenarios once in each mode)
//   BENCH_FRESH_PROCESSES  1 = new app processes before every measured round (default: one per scenario)
//   BENCH_PREPARE_GC  0 = no full GC in the app processes before each round (default: one, see app-process.js)
//   BENCH_APP_NODE_ARGS  node flags for those processes, space-separated (--cpu-prof --cpu-prof-dir=DIR, --trace-gc)
//   BENCH_BASELINE  another checkout of nestjs-mesa (built dist/, node_modules): adds a `baseline` contender
//                   (and the baseline build's rows to backlog-blocking's at-the-cap and sweep parts)
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const smoke = env.BENCH_SMOKE === '1' || env.BENCH_SMOKE === 'true';

function number(name, fallback, { min = 0, integer = false } = {}) {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${env[name]} is not a valid ${integer ? 'integer' : 'number'} >= ${min}`);
  }
  return value;
}

const scale = number('BENCH_SCALE', smoke ? 0.01 : 1, { min: 0.0001 });
const rounds = number('ROUNDS', smoke ? 1 : 5, { min: 1, integer: true });
/** A count scaled by BENCH_SCALE, never below `floor`. */
const scaled = (count, floor) => Math.max(floor, Math.round(count * scale));

export const SCENARIOS = [
  'throughput',
  'ceiling',
  'sync',
  'sync-cpu',
  'single',
  'decorator',
  'memory',
  'latency',
  'backlog-blocking',
  'telemetry',
];
const only = env.BENCH_ONLY
  ? env.BENCH_ONLY.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : SCENARIOS;
for (const name of only) if (!SCENARIOS.includes(name)) throw new Error(`BENCH_ONLY: unknown scenario "${name}" (${SCENARIOS.join(', ')})`);

const MODE_CHOICES = { 'in-process': ['in-process'], isolated: ['isolated'], both: ['in-process', 'isolated'] };
const mode = env.BENCH_MODE || 'in-process';
if (!MODE_CHOICES[mode]) throw new Error(`BENCH_MODE=${mode}: use ${Object.keys(MODE_CHOICES).join(', ')}`);
/** The scenarios whose contenders run in app processes, once per mode (support/hosts.js). */
export const MODE_SCENARIOS = ['throughput', 'single', 'sync', 'sync-cpu', 'decorator'];

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const baseline = env.BENCH_BASELINE ? resolve(env.BENCH_BASELINE) : undefined;
if (baseline && !existsSync(join(baseline, 'dist', 'index.js'))) {
  throw new Error(`BENCH_BASELINE=${env.BENCH_BASELINE}: ${join(baseline, 'dist', 'index.js')} is missing (build that checkout first)`);
}
/** nestjs-mesa's default cap on stored messages per user: the sync-cpu scenario stores exactly up to it. */
const STORED_CAP = 1000;

export const config = {
  smoke,
  scale,
  rounds,
  scenarios: only,
  repoRoot,
  outDir: env.BENCH_OUT || (smoke ? join(tmpdir(), 'nestjs-mesa-bench-smoke') : join(repoRoot, 'docs', 'bench')),
  /** A wait for envelopes or client messages gives up after this long without progress. */
  progressTimeoutMs: smoke ? 4_000 : 10_000,
  /** Whole-run watchdog: the bench kills its children and exits 2 past this. */
  watchdogMs: smoke ? 120_000 : 20 * 60_000,
  /** The checkout whose dist/ the `baseline` contender imports (BENCH_BASELINE), or undefined. */
  baseline,
  /** BENCH_MODE's modes, in the order run: 'in-process' and/or 'isolated'. */
  modes: MODE_CHOICES[mode],
  /** BENCH_FRESH_PROCESSES=1: new app processes (hosts.js) before every measured round but the first, warmed up again. */
  freshProcesses: ['1', 'true'].includes(env.BENCH_FRESH_PROCESSES ?? ''),
  /** A full GC in the app process before every round (BENCH_PREPARE_GC=0: none). */
  prepareGc: !['0', 'false'].includes(env.BENCH_PREPARE_GC ?? ''),
  /** Node flags for the processes hosting contenders (BENCH_APP_NODE_ARGS). */
  appNodeArgs: (env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  // newArraysInFlight: the in-flight counts also run with a new recipient array per dispatch
  throughput: { dispatches: scaled(100_000, 200), inFlight: [1000, 10_000], newArraysInFlight: [1000], recipients: 2 },
  ceiling: { batches: scaled(800, 4) },
  sync: { dispatches: scaled(100, 10), members: 100, online: 50 },
  // dispatches stay at or under the cap, so every offline member keeps every one of them (nothing dropped)
  // warm-up: 3 unmeasured rounds (the JIT is still settling after 1,000 sync dispatches; one round in smoke)
  syncCpu: { dispatches: Math.min(STORED_CAP, scaled(1000, 20)), inFlight: 100, members: 100, online: 50, warmupRounds: smoke ? 1 : 3 },
  single: { dispatches: scaled(3000, 50), warmup: scaled(500, 20), recipients: 2 },
  decorator: { dispatches: scaled(50_000, 200), chunk: 1000 },
  telemetry: { dispatches: scaled(100_000, 200), chunk: 1000, recipients: 2 },
  memory: { dispatches: scaled(1_000_000, 2000), warmup: scaled(20_000, 500), chunk: 1000 },
  latency: { rate: 5000, seconds: smoke ? 0.5 : 3, warmupSeconds: smoke ? 0.2 : 0.5, users: 2 },
  backlogBlocking: {
    sizes: smoke ? [10, 1500] : [1000, 10_000, 100_000],
    users: smoke ? 3 : 20,
    dispatches: smoke ? 30 : 200,
    // backlogs just under the default byte cap (1 MiB), of 1 KB messages
    atCap: { users: smoke ? [3] : [100, 1_000], bytes: smoke ? 20_000 : 1_040_000, messageBytes: 1_000 },
    sweep: { users: smoke ? 3 : 200, bytes: smoke ? 20_000 : 1_040_000, messageBytes: 1_000 },
  },
};
