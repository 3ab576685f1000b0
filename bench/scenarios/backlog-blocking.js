// Scenario 6: backlog blocking. Every append to a stored backlog (Mesa's format: one JSON array per user) rewrites
// the user's whole text inside a Redis script, and Redis serves nobody else meanwhile: another client PINGs in a
// loop, and its PING p50/p99/max show how long Redis was held. Three parts:
// - by backlog size: offline users who already have B stored messages (B = 1k, 10k, 100k), `dispatches` messages
//   dispatched one at a time (awaited), round-robin, one recipient each, for nestjs-mesa with its default cap
//   (1000 messages / 1 MiB) and uncapped (Infinity, Mesa's behaviour). Checked (counts only): every backlog ends
//   with exactly the messages expected, the capped ones at most 1000 messages and 1 MiB, the newest last, and the
//   reported `dropped` counts add up.
// - at the cap: 100 and 1,000 offline users whose backlogs are at the default byte cap (1 MiB of 1 KB messages, as
//   the build itself writes them), one dispatch to all of them, default options; nestjs-mesa and, with
//   BENCH_BASELINE, the baseline build. Checked: each backlog ends with the new message and stays within 1 MiB.
// - the sweep: 200 users with 1 MiB backlogs of messages that expire in an hour (sync.ttl), one sweep pass with
//   nothing expired, then one after a 1 s message to each user expired; nestjs-mesa and the baseline. Checked: the
//   first pass removes nothing, the second exactly one message per user.
import { performance } from 'node:perf_hooks';
import { Test } from '@nestjs/testing';
import { expectCount, fail } from '../support/checks.js';
import { loadMesa } from '../support/nest.js';
import { loadBuild } from '../support/builds.js';
import { median, percentile, sleep } from '../support/stats.js';

const CONNECTED = 'connected_clients';
const UNDELIVERED = 'undelivered_messages';
const DEFAULT_CAP = 1000;
const DEFAULT_CAP_BYTES = 1024 * 1024;

export const BACKLOG_LABELS = {
  capped: 'nestjs-mesa, default cap (1000 msgs / 1 MiB)',
  uncapped: 'nestjs-mesa, uncapped (Infinity)',
};
const CAPS = { capped: {}, uncapped: { maxStoredPerUser: Infinity, maxStoredBytesPerUser: Infinity } };

export async function backlogBlocking({ config, redis }) {
  const { sizes, users, dispatches } = config.backlogBlocking;
  const ids = Array.from({ length: users }, (_, i) => `b${i}`);
  const admin = redis.client();
  const pinger = redis.client();
  const rows = [];
  try {
    await admin.del(CONNECTED, UNDELIVERED);
    const builds = await buildsToCompare(config);
    for (const size of sizes) {
      const backlog = seedBacklog(size);
      for (const build of builds)
        for (const key of Object.keys(CAPS)) {
          const what = `backlog-blocking/${build.key} ${key} backlog ${size}`;
          await admin.del(UNDELIVERED);
          for (const id of ids) await admin.hset(UNDELIVERED, id, backlog);
          const app = await appOf(build.mesa, redis.url, { sync: { enabled: true }, ...CAPS[key] });
          try {
            const run = await dispatchWhilePinging(build.mesa, app.dispatcher, pinger, ids, dispatches);
            await checkBacklogs(admin, what, { key, size, ids, dispatches, dropped: run.dropped });
            const row = {
              size,
              key,
              build: build.key,
              label: build.key === 'nestjs' ? BACKLOG_LABELS[key] : `${build.label}, ${key === 'capped' ? 'default cap' : 'uncapped'}`,
              dispatchMedianMs: median(run.dispatchMs),
              dispatchP99Ms: percentile(run.dispatchMs, 99),
              pingP50Ms: percentile(run.pingMs, 50),
              pingP99Ms: percentile(run.pingMs, 99),
              pingMaxMs: Math.max(...run.pingMs),
              pings: run.pingMs.length,
              totalSeconds: run.totalMs / 1000,
            };
            rows.push(row);
            process.stdout.write(
              `  backlog ${size} ${build.key} ${key.padEnd(8)} dispatch median ${row.dispatchMedianMs.toFixed(2)} ms; PING p50 ${row.pingP50Ms.toFixed(2)} p99 ${row.pingP99Ms.toFixed(2)} ms (${row.pings} pings)\n`,
            );
          } catch (error) {
            fail(what, error?.stack ?? String(error));
          } finally {
            await app.moduleRef.close();
          }
        }
    }
    const atCap = await backlogsAtCap({ config, redis, admin, pinger, builds });
    const sweep = await sweepPasses({ config, redis, admin, pinger, builds });
    return { sizes, users, dispatches, rows, atCap, sweep };
  } finally {
    await admin.del(CONNECTED, UNDELIVERED);
    admin.disconnect();
    pinger.disconnect();
  }
}

/** A stored backlog of `size` messages, as Mesa stores them: one JSON array per user. */
function seedBacklog(size) {
  return JSON.stringify(Array.from({ length: size }, (_, i) => ({ op: 0, d: { n: i }, t: 'OLD' })));
}

/**
 * Dispatches `dispatches` messages one at a time, round-robin over `ids`, while `pinger` PINGs in a loop.
 * Returns each dispatch's and each PING's duration in ms, and the `dropped` counts summed per user.
 */
async function dispatchWhilePinging(mesa, dispatcher, pinger, ids, dispatches) {
  await pinger.ping();
  const pingMs = [];
  let stop = false;
  const pinging = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await pinger.ping();
      pingMs.push(performance.now() - t0);
    }
  })();
  const dispatchMs = [];
  const dropped = Object.fromEntries(ids.map((id) => [id, 0]));
  const started = performance.now();
  try {
    for (let i = 0; i < dispatches; i++) {
      const t0 = performance.now();
      const result = await dispatcher.dispatch(new mesa.Message(0, { i }, 'NEW'), [ids[i % ids.length]]);
      dispatchMs.push(performance.now() - t0);
      for (const [id, count] of Object.entries(result.dropped ?? {})) dropped[id] += count;
    }
  } finally {
    stop = true;
    await pinging;
  }
  return { dispatchMs, pingMs, dropped, totalMs: performance.now() - started };
}

/** Counting checks on every backlog once the dispatches have been answered. */
async function checkBacklogs(admin, what, { key, size, ids, dispatches, dropped }) {
  const hash = await admin.hgetall(UNDELIVERED);
  expectCount(`${what}: undelivered_messages fields`, Object.keys(hash).length, ids.length);
  let complete = 0;
  let droppedRight = 0;
  ids.forEach((id, u) => {
    const value = hash[id] ?? '[]';
    const messages = JSON.parse(value);
    const mine = Array.from({ length: dispatches }, (_, i) => i).filter((i) => i % ids.length === u);
    const total = size + mine.length;
    const expected = key === 'capped' ? Math.min(total, DEFAULT_CAP) : total;
    const newest = messages.slice(-mine.length);
    const newestRight = newest.length === mine.length && newest.every((m, k) => m?.t === 'NEW' && m?.d?.i === mine[k]);
    const oldRight = messages.slice(0, messages.length - mine.length).every((m) => m?.t === 'OLD');
    const withinBytes = key !== 'capped' || Buffer.byteLength(value) <= DEFAULT_CAP_BYTES;
    if (messages.length === expected && newestRight && oldRight && withinBytes) complete++;
    if (dropped[id] === total - expected) droppedRight++;
  });
  expectCount(
    `${what}: backlogs holding ${key === 'capped' ? `min(seeded + new, ${DEFAULT_CAP})` : 'seeded + new'} messages, newest last`,
    complete,
    ids.length,
  );
  expectCount(`${what}: users whose reported dropped count matches`, droppedRight, ids.length);
}

/** This checkout's build, and the BENCH_BASELINE build when set: { key, label, mesa }. */
async function buildsToCompare(config) {
  const builds = [{ key: 'nestjs', label: 'nestjs-mesa', mesa: (await loadBuild()).mesa }];
  if (config.baseline) {
    const { mesa, rev } = await loadMesa(config.baseline);
    builds.push({ key: 'baseline', label: `nestjs-mesa @ ${rev}`, mesa });
  }
  return builds;
}

/** MesaModule.forRoot({ url, ...options }) of `mesa` (a nestjs-mesa dist module) in a Nest testing module. */
async function appOf(mesa, url, options) {
  const moduleRef = await Test.createTestingModule({ imports: [mesa.MesaModule.forRoot({ url, ...options })] }).compile();
  await moduleRef.init();
  return { moduleRef, dispatcher: moduleRef.get(mesa.DispatcherService) };
}

/** A backlog as Mesa writes it, of about `bytes`, of messages of about `messageBytes`; `expires`: each starts with {"x":…}. */
function mesaText(bytes, messageBytes, expires) {
  const padding = 'x'.repeat(Math.max(0, messageBytes - 60));
  const messages = [];
  let size = 1;
  for (let n = 0; ; n++) {
    const message = JSON.stringify(expires ? { x: expires, op: 0, d: { n, padding }, t: 'OLD' } : { op: 0, d: { n, padding }, t: 'OLD' });
    if (size + message.length + 1 > bytes) break;
    messages.push(message);
    size += message.length + 1;
  }
  return `[${messages.join(',')}]`;
}

/**
 * Gives every one of `ids` the backlog the build itself writes from `text`: `text` stored for the first user, one
 * message dispatched to it (the build adopts or converts it, not measured), the result copied to the others.
 */
async function seedAs(build, app, admin, ids, text) {
  await admin.del(UNDELIVERED);
  await admin.hset(UNDELIVERED, ids[0], text);
  await app.dispatcher.dispatch(new build.mesa.Message(0, { seed: true }, 'SEED'), [ids[0]]);
  const own = await admin.hgetBuffer(UNDELIVERED, ids[0]);
  for (let k = 1; k < ids.length; k += 50) {
    const pipeline = admin.pipeline();
    for (const id of ids.slice(k, k + 50)) pipeline.hset(UNDELIVERED, id, own);
    await pipeline.exec();
  }
  return own.length;
}

/** Runs `work` while `pinger` PINGs in a loop: its duration (ms), the PINGs' durations, and what it returned. */
async function whilePinging(pinger, work) {
  await pinger.ping();
  const pingMs = [];
  let stop = false;
  const pinging = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await pinger.ping();
      pingMs.push(performance.now() - t0);
    }
  })();
  const started = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - started, pingMs, value };
  } finally {
    stop = true;
    await pinging;
  }
}

/**
 * Runs `work` while `pinger` PINGs, counting from zero: its duration, what it returned, the script calls Redis ran,
 * the longest command (ms) and the PINGs' percentiles.
 */
async function measured(admin, pinger, work) {
  await resetStats(admin);
  const run = await whilePinging(pinger, work);
  return {
    ms: run.ms,
    value: run.value,
    calls: await scriptCalls(admin),
    longestCallMs: await longestCommandMs(admin),
    ...pingStats(run.pingMs),
  };
}

function pingStats(pingMs) {
  return { pingP50Ms: percentile(pingMs, 50), pingP99Ms: percentile(pingMs, 99), pingMaxMs: Math.max(...pingMs), pings: pingMs.length };
}

/** Starts counting script calls (CONFIG RESETSTAT) and recording the longest command (LATENCY, ms granularity). */
async function resetStats(admin) {
  await admin.config('RESETSTAT');
  await admin.config('SET', 'latency-monitor-threshold', '1');
  await admin.call('LATENCY', 'RESET');
}

/** The longest command Redis ran since {@link resetStats}, in ms (its latency monitor; 0: none took 1 ms). */
async function longestCommandMs(admin) {
  const events = await admin.call('LATENCY', 'LATEST');
  return Math.max(0, ...events.filter((event) => event[0] === 'command').map((event) => Number(event[3])));
}

/** How many script calls Redis ran since the last CONFIG RESETSTAT. */
async function scriptCalls(admin) {
  const stats = await admin.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Users whose backlog ends with a message of type `type` and is at most `cap` bytes: counted in Redis, 50 at a time. */
async function backlogsEndingWith(admin, ids, type, cap) {
  const script = `local ok = 0
for _, id in ipairs(ARGV) do
  local text = redis.call('HGET', KEYS[1], id)
  if text and #text <= ${cap} and string.find(text, '"t":"${type}"', #text - 300, true) then ok = ok + 1 end
end
return ok`;
  let ok = 0;
  for (let k = 0; k < ids.length; k += 50) ok += await admin.eval(script, 1, UNDELIVERED, ...ids.slice(k, k + 50));
  return ok;
}

/** One dispatch to 100 (and 1,000) offline users at the default byte cap, default options, per build. */
async function backlogsAtCap({ config, redis, admin, pinger, builds }) {
  const { users: counts, bytes, messageBytes } = config.backlogBlocking.atCap;
  const rows = [];
  for (const count of counts) {
    const ids = Array.from({ length: count }, (_, i) => `c${i}`);
    for (const build of builds) {
      const what = `backlog-blocking/at the cap ${build.key} ${count} users`;
      const app = await appOf(build.mesa, redis.url, { sync: { enabled: true } });
      try {
        const seeded = await seedAs(build, app, admin, ids, mesaText(bytes, messageBytes));
        const {
          value: result,
          ms,
          calls,
          ...stats
        } = await measured(admin, pinger, () => app.dispatcher.dispatch(new build.mesa.Message(0, { n: 1 }, 'MEASURED'), ids));
        expectCount(`${what}: users stored for`, result.storedFor.length, count);
        expectCount(
          `${what}: backlogs ending with the new message, within 1 MiB`,
          await backlogsEndingWith(admin, ids, 'MEASURED', DEFAULT_CAP_BYTES),
          count,
        );
        const row = {
          key: build.key,
          label: build.label,
          users: count,
          backlogBytes: seeded,
          dispatchMs: ms,
          scriptCalls: calls,
          ...stats,
        };
        rows.push(row);
        process.stdout.write(
          `  at the cap: ${count} users ${build.key.padEnd(8)} dispatch ${ms.toFixed(0)} ms in ${calls} script calls (longest ${row.longestCallMs} ms); PING p99 ${row.pingP99Ms.toFixed(2)} max ${row.pingMaxMs.toFixed(2)} ms\n`,
        );
      } catch (error) {
        fail(what, error?.stack ?? String(error));
      } finally {
        await app.moduleRef.close();
        await admin.del(UNDELIVERED);
      }
    }
  }
  return { users: counts, bytes, messageBytes, rows };
}

/** A sweep pass over 200 users at the cap with nothing expired, then one with a message per user expired, per build. */
async function sweepPasses({ config, redis, admin, pinger, builds }) {
  const { users: count, bytes, messageBytes } = config.backlogBlocking.sweep;
  const ids = Array.from({ length: count }, (_, i) => `s${i}`);
  const rows = [];
  for (const build of builds) {
    const what = `backlog-blocking/sweep ${build.key}`;
    const app = await appOf(build.mesa, redis.url, { sync: { enabled: true, ttl: 3_600_000, sweepInterval: 3_600_000 } });
    try {
      const sweeper = app.moduleRef.get(build.mesa.MesaBacklogSweeper);
      await sweeper.sweep();
      const seeded = await seedAs(build, app, admin, ids, mesaText(bytes, messageBytes, Date.now() + 3_600_000));
      for (const phase of ['nothing expired', 'one message per user expired']) {
        if (phase !== 'nothing expired') {
          await app.dispatcher.dispatch(new build.mesa.Message(0, { n: 1 }, 'SHORT', { ttl: 1_000 }), ids);
          await sleep(1_100);
        }
        const { value: outcome, ms, calls, ...stats } = await measured(admin, pinger, () => sweeper.sweep());
        expectCount(`${what}, ${phase}: messages removed`, outcome.removed, phase === 'nothing expired' ? 0 : count);
        const row = { key: build.key, label: build.label, phase, users: count, backlogBytes: seeded, passMs: ms, steps: calls, ...stats };
        rows.push(row);
        process.stdout.write(
          `  sweep, ${phase}: ${build.key.padEnd(8)} pass ${ms.toFixed(0)} ms in ${calls} steps (longest ${row.longestCallMs} ms); PING p99 ${row.pingP99Ms.toFixed(2)} max ${row.pingMaxMs.toFixed(2)} ms\n`,
        );
      }
    } catch (error) {
      fail(what, error?.stack ?? String(error));
    } finally {
      await app.moduleRef.close();
      await admin.del(UNDELIVERED);
    }
  }
  return { users: count, bytes, messageBytes, rows };
}
