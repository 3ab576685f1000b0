// A process hosting contenders, as an application process would: `node app-process.js <checkout> <redis url>`.
// hosts.js starts one per build with all of a scenario's contenders in it (in-process mode: they run after
// each other in one process, sharing its heap, its JIT and ioredis, as they would in an application) or one
// per contender (isolated mode). The bench sends { id, op, name?, ... } over IPC:
//   create { name, key, sync }  creates contender `key` of this checkout's build under `name` -> { label }
//   chunks { name, ... }        drive.js issueChunks(), then settle()    -> { cpuUs: this process's CPU over it }
//   each { name, ... }          drive.js timeEach(), then settle()       -> { cpuUs, samples }
//   prepare                     a full GC (node --expose-gc) before a round, left out of the round's `gc`
//   settle { name }             the contender's settle()
//   gc                          garbage collections since the last `gc` -> { gc: { count, ms, scavenges, scavengeMs } }
//   close                       closes every contender, then disconnects
// Under --trace-gc (BENCH_APP_NODE_ARGS), each chunks/each request is marked on stdout, `[app <pid>] chunks <name> start|end`.
// GC entries reach the observer a turn or two after each collection, so `gc` is asked for after a round's
// timing has ended and waits a few ms first.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { loadBuild } from './builds.js';
import { createContender } from './contenders.js';
import { issueChunks, timeEach } from './drive.js';
import { sleep } from './stats.js';

const [dir, url] = process.argv.slice(2);
// with --trace-gc, each request is marked in the same stream, so collections can be told apart by contender
const traced = process.execArgv.some((arg) => arg.startsWith('--trace-gc'));
const mark = (text) => traced && process.stdout.write(`[app ${process.pid}] ${text}\n`);
const build = await loadBuild(dir);
const contenders = new Map();

const gcTotal = { count: 0, ms: 0, scavenges: 0, scavengeMs: 0 };
let gcReported = { ...gcTotal };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotal.count++;
    gcTotal.ms += entry.duration;
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gcTotal.scavenges++;
      gcTotal.scavengeMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

async function handle(request) {
  const contender = () => {
    const found = contenders.get(request.name);
    if (!found) throw new Error(`no contender named ${request.name} in this process`);
    return found;
  };
  switch (request.op) {
    case 'create': {
      const created = await createContender(request.key, url, { sync: request.sync, build });
      contenders.set(request.name, created);
      return { label: created.label };
    }
    case 'chunks':
    case 'each': {
      const target = contender();
      mark(`${request.op} ${request.name} start in-flight=${request.chunk ?? 1}${request.newArrays ? '+new-arrays' : ''}`);
      const cpu = process.cpuUsage();
      const samples = request.op === 'each' ? Array.from(await timeEach(target, request)) : undefined;
      if (request.op === 'chunks') await issueChunks(target, request);
      await target.settle();
      const used = process.cpuUsage(cpu);
      mark(`${request.op} ${request.name} end`);
      return { cpuUs: used.user + used.system, samples };
    }
    case 'prepare': {
      // the same heap state at every round's start: an empty young generation, no old-generation garbage
      globalThis.gc?.();
      await sleep(5);
      gcReported = { ...gcTotal };
      return {};
    }
    case 'settle':
      await contender().settle();
      return {};
    case 'gc': {
      await sleep(5);
      const gc = Object.fromEntries(Object.entries(gcTotal).map(([name, value]) => [name, value - gcReported[name]]));
      gcReported = { ...gcTotal };
      return { gc };
    }
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

process.on('message', async (request) => {
  if (request.op === 'close') {
    for (const contender of contenders.values()) await contender.close().catch(() => undefined);
    process.send({ id: request.id }, () => process.disconnect());
    return;
  }
  try {
    process.send({ id: request.id, ...(await handle(request)) });
  } catch (error) {
    process.send({ id: request.id, error: error?.stack ?? String(error) });
  }
});
process.send({ ready: true });
