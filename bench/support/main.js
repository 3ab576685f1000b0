// What run.js runs once it has --expose-gc: the scenarios in order, then the reports.
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { config, MODE_SCENARIOS } from './config.js';
import { buildsToCompare } from './builds.js';
import { MODE_TEXT } from './hosts.js';
import { checkFailures, fail } from './checks.js';
import { ChannelCounter } from './channel-counter.js';
import { RedisServer } from './redis-server.js';
import { renderTable } from '../report/table.js';
import { scenarioKey } from '../report/format.js';
import { renderChart } from '../report/chart.js';
import { throughput } from '../scenarios/throughput.js';
import { redisCeiling } from '../scenarios/redis-ceiling.js';
import { sync } from '../scenarios/sync.js';
import { syncCpu } from '../scenarios/sync-cpu.js';
import { singleDispatch } from '../scenarios/single-dispatch.js';
import { decoratorOverhead } from '../scenarios/decorator-overhead.js';
import { memory } from '../scenarios/memory.js';
import { latency } from '../scenarios/latency.js';
import { backlogBlocking } from '../scenarios/backlog-blocking.js';
import { telemetryCost } from '../scenarios/telemetry-cost.js';

const RUNNERS = {
  throughput,
  ceiling: redisCeiling,
  sync,
  'sync-cpu': syncCpu,
  single: singleDispatch,
  decorator: decoratorOverhead,
  memory,
  latency,
  'backlog-blocking': backlogBlocking,
  telemetry: telemetryCost,
};

export async function main() {
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: watchdog, still running after ${config.watchdogMs / 1000} s; killing everything\n`);
    process.exit(2); // processes.js kills the children on exit
  }, config.watchdogMs);
  watchdog.unref();
  process.on('unhandledRejection', (error) => fail('unhandled rejection', error?.stack ?? String(error)));

  const started = performance.now();
  const redis = await RedisServer.start();
  let counter;
  const scenarios = {};
  let machine;
  try {
    machine = describeMachine(await redis.version());
    process.stdout.write(
      `bench: redis-server ${machine.redis} on ${redis.url}; scenarios ${config.scenarios.join(', ')}; modes ${config.modes.join(', ')}; ` +
        `rounds=${config.rounds} scale=${config.scale}; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${machine.loadAverageAtStart.join('/')}\n`,
    );
    counter = await ChannelCounter.start(redis.url, { timeoutMs: config.progressTimeoutMs });
    const admin = redis.client();
    for (const name of config.scenarios) {
      await admin.flushall();
      const t0 = performance.now();
      const loadAtStart = loadAverage();
      const modes = MODE_SCENARIOS.includes(name) ? config.modes : undefined;
      process.stdout.write(`bench: ${name}${modes ? ` (${modes.join(' and ')})` : ''}...\n`);
      try {
        const value = await RUNNERS[name]({ config, redis, counter, modes });
        const ran = {
          loadAverage: { start: loadAtStart, end: loadAverage() },
          tookSeconds: Math.round((performance.now() - t0) / 100) / 10,
        };
        // a scenario run in several modes at once (interleaved) gives one result per mode
        for (const [mode, result] of value.byMode ? Object.entries(value.byMode) : [[undefined, value]]) {
          scenarios[scenarioKey(name, mode)] = { ...result, ...ran };
        }
      } catch (error) {
        fail(`${name} scenario`, error?.stack ?? String(error));
      }
      process.stdout.write(`bench: ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s, load ${loadAverage().join('/')}\n`);
    }
    admin.disconnect();
    machine.loadAverageAtEnd = loadAverage();
  } finally {
    await counter?.close();
    await redis.stop();
  }

  const results = {
    machine,
    config: {
      smoke: config.smoke,
      scale: config.scale,
      rounds: config.rounds,
      scenarios: config.scenarios,
      modes: config.modes,
      modeText: Object.fromEntries(config.modes.map((mode) => [mode, MODE_TEXT[mode]])),
      appNodeArgs: config.appNodeArgs,
      baseline: config.baseline,
      builds: buildsToCompare().map(({ name, rev }) => ({ name, rev })),
    },
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    scenarios,
    checks: { failures: checkFailures() },
  };
  process.stdout.write(`\n${renderTable(results)}\n`);
  await mkdir(config.outDir, { recursive: true });
  await writeFile(join(config.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(config.outDir, 'chart.svg'), renderChart(results));
  process.stdout.write(`\nbench: wrote ${join(config.outDir, 'results.json')} and chart.svg in ${results.durationSeconds} s\n`);
  process.exit(results.checks.failures.length ? 1 : 0);
}

/** The machine a run is taken on, for the printed header, results.json and the chart. */
function describeMachine(redisVersion) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    redis: redisVersion,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemGB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverageAtStart: loadAverage(),
    date: new Date().toISOString(),
  };
}

/** The 1, 5 and 15 minute load averages, rounded to hundredths. */
function loadAverage() {
  return os.loadavg().map((load) => Math.round(load * 100) / 100);
}
