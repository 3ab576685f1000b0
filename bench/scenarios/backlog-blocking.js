// Scenario 6: backlog blocking. Offline users who already have B stored messages (B = 1k, 10k, 100k), sync on:
// every append to a backlog runs inside one Redis script, so a large backlog holds Redis (every other client
// waits) while it is decoded and rewritten. For each B, `users` backlogs are seeded with HSET, then
// `dispatches` messages are dispatched one at a time (awaited), round-robin, one recipient each, while another
// client PINGs Redis in a loop. Reported per B: median dispatch time and the other client's PING p50/p99/max,
// for nestjs-mesa with its default cap (1000 messages / 1 MiB) and uncapped (Infinity, Mesa's behaviour).
// Checked (counts only): every backlog ends with exactly the messages expected, the capped ones at most
// 1000 messages and 1 MiB, the newest last, and the reported `dropped` counts add up.
import { performance } from 'node:perf_hooks';
import { Test } from '@nestjs/testing';
import { DispatcherService, Message, MesaModule } from '../../dist/index.js';
import { expectCount, fail } from '../support/checks.js';
import { median, percentile } from '../support/stats.js';

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
    for (const size of sizes) {
      const backlog = seedBacklog(size);
      for (const key of Object.keys(CAPS)) {
        const what = `backlog-blocking/${key} backlog ${size}`;
        await admin.del(UNDELIVERED);
        for (const id of ids) await admin.hset(UNDELIVERED, id, backlog);
        const app = await createApp(redis.url, CAPS[key]);
        try {
          const run = await dispatchWhilePinging(app.dispatcher, pinger, ids, dispatches);
          await checkBacklogs(admin, what, { key, size, ids, dispatches, dropped: run.dropped });
          const row = {
            size,
            key,
            label: BACKLOG_LABELS[key],
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
            `  backlog ${size} ${key.padEnd(8)} dispatch median ${row.dispatchMedianMs.toFixed(2)} ms; PING p50 ${row.pingP50Ms.toFixed(2)} p99 ${row.pingP99Ms.toFixed(2)} ms (${row.pings} pings)\n`,
          );
        } catch (error) {
          fail(what, error?.stack ?? String(error));
        } finally {
          await app.moduleRef.close();
        }
      }
    }
    return { sizes, users, dispatches, rows };
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

/** MesaModule.forRoot({ url, sync, ...caps }) in a Nest testing module, as an application would import it. */
async function createApp(url, caps) {
  const moduleRef = await Test.createTestingModule({ imports: [MesaModule.forRoot({ url, sync: { enabled: true }, ...caps })] }).compile();
  await moduleRef.init();
  return { moduleRef, dispatcher: moduleRef.get(DispatcherService) };
}

/**
 * Dispatches `dispatches` messages one at a time, round-robin over `ids`, while `pinger` PINGs in a loop.
 * Returns each dispatch's and each PING's duration in ms, and the `dropped` counts summed per user.
 */
async function dispatchWhilePinging(dispatcher, pinger, ids, dispatches) {
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
      const result = await dispatcher.dispatch(new Message(0, { i }, 'NEW'), [ids[i % ids.length]]);
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
