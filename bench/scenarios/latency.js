// Scenario 5: end-to-end latency. dispatch -> Redis -> a real Mesa server (child process) -> the
// WebSocket of Mesa's own client, at a steady rate (5k messages/s) for a few seconds per round. The
// payload carries performance.now() taken when dispatch() was called; the client (in this process, so
// one clock) records arrival - ts. p50/p99 over both users' samples, median of rounds.
import { performance } from 'node:perf_hooks';
import { expectCount } from '../support/checks.js';
import { closeAll, runRounds } from '../support/rounds.js';
import { createContender } from '../support/contenders.js';
import { connectUser, MesaServer } from '../support/mesa.js';
import { percentile, sleep } from '../support/stats.js';

export async function latency({ config, redis }) {
  const { rate, seconds, warmupSeconds, users: userCount } = config.latency;
  const server = await MesaServer.start(redis.url);
  let current; // the round being measured: { id, samples, received[] }
  let roundId = 0;
  const users = [];
  const contenders = [];
  try {
    for (let u = 0; u < userCount; u++) {
      users.push(
        await connectUser(server.url, `lat${u}`, (message) => {
          if (message.type !== 'LAT' || !current || message.data?.round !== current.id) return;
          const now = performance.now();
          const seen = current.seen[u];
          if (seen[message.data.id]) return void current.duplicates++;
          seen[message.data.id] = 1;
          current.samples.push(now - message.data.ts);
          current.received[u]++;
        }),
      );
    }
    const recipients = users.map((user) => user.id);
    for (const key of ['original', 'raw', 'nestjs']) contenders.push(await createContender(key, redis.url));
    const results = await runRounds('latency', contenders, config.rounds, async (contender, index) => {
      const planned = Math.max(1, Math.round(rate * (index < 0 ? warmupSeconds : seconds)));
      current = { id: ++roundId, samples: [], received: users.map(() => 0), seen: users.map(() => new Uint8Array(planned)), duplicates: 0 };
      const what = `latency/${contender.key}${index < 0 ? ' warm-up' : ` round ${index + 1}`}`;
      try {
        const { sent, failed, ms } = await paced(contender, recipients, rate, index < 0 ? warmupSeconds : seconds, current.id);
        expectCount(`${what}: dispatches that failed`, failed, 0);
        await allReceived(current, sent, what, config.progressTimeoutMs);
        await sleep(50); // duplicates would show up here
        current.received.forEach((count, u) => expectCount(`${what}: distinct messages received by ${recipients[u]}`, count, sent));
        expectCount(`${what}: duplicate messages received`, current.duplicates, 0);
        const { samples } = current;
        return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100), rate: (sent * 1000) / ms };
      } finally {
        current = undefined;
      }
    });
    return { rate, seconds, users: userCount, rounds: config.rounds, contenders: results };
  } finally {
    await closeAll('latency', contenders);
    users.forEach((user) => user.close());
    await server.stop();
  }
}

/** Dispatches at `rate` per second for `seconds` (rate x seconds messages), catching up each timer tick. */
async function paced(contender, recipients, rate, seconds, round) {
  const total = Math.max(1, Math.round(rate * seconds));
  let sent = 0;
  let failed = 0;
  const onError = () => failed++;
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const data = { round, id: sent, ts: performance.now(), room: 'r1', author: 'u1', text: 'hello world' };
      contender.dispatch(recipients, data, 'LAT')?.catch(onError);
    }
    if (sent < total) await sleep(1);
  }
  const ms = performance.now() - start;
  await contender.settle();
  return { sent, failed, ms };
}

/** Waits until every user received `sent` messages of the round; rejects after `timeoutMs` without progress. */
async function allReceived(round, sent, what, timeoutMs) {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const total = round.received.reduce((a, b) => a + b, 0);
    if (round.received.every((count) => count >= sent)) return;
    if (total !== last) [last, since] = [total, Date.now()];
    if (Date.now() - since > timeoutMs) throw new Error(`${what}: users received ${round.received.join('/')} of ${sent} each`);
    await sleep(10);
  }
}
