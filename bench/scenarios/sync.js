// Scenario 2: sync. A 100-member room, 50 online (members of connected_clients), every dispatch goes to
// the whole room: published to the 50 online, stored for the 50 offline (backlogs up to D messages).
// undelivered_messages is cleared before every round. LOST = D x 50 expected stored minus what the
// undelivered_messages hash arrays actually hold once the writes have stopped.
import { expectCount } from '../support/checks.js';
import { closeAll, runRounds } from '../support/rounds.js';
import { createContender } from '../support/contenders.js';
import { driveRound } from '../support/drive.js';
import { sleep } from '../support/stats.js';

const CONNECTED = 'connected_clients';
const UNDELIVERED = 'undelivered_messages';

export async function sync({ config, redis, counter }) {
  const { dispatches, members, online } = config.sync;
  const room = Array.from({ length: members }, (_, i) => `m${i}`);
  const onlineIds = room.filter((_, i) => i % 2 === 0).slice(0, online);
  const offlineCount = members - onlineIds.length;
  const admin = redis.client();
  await admin.del(CONNECTED, UNDELIVERED);
  await admin.sadd(CONNECTED, ...onlineIds);
  const contenders = [
    await createContender('original', redis.url, { sync: true }),
    await createContender('nestjs', redis.url, { sync: true }),
    await createContender('raw', redis.url), // reference only: publishes to the room, stores nothing
  ];
  try {
    const results = await runRounds('sync', contenders, config.rounds, async (contender, index) => {
      await admin.del(UNDELIVERED);
      const what = `sync/${contender.key}${index < 0 ? ' warm-up' : ` round ${index + 1}`}`;
      const { rate } = await driveRound(contender, counter, { total: dispatches, chunk: dispatches, recipients: room, what });
      if (contender.key === 'raw') return { rate };
      const { stored, fields } = await storedWhenQuiet(admin);
      const lost = dispatches * offlineCount - stored;
      if (contender.key === 'nestjs') {
        expectCount(`${what}: messages stored for offline members`, stored, dispatches * offlineCount);
        expectCount(`${what}: undelivered_messages fields (offline members only)`, fields, offlineCount);
        expectCount(
          `${what}: offline members whose backlog holds each dispatch exactly once`,
          await completeBacklogs(admin, dispatches),
          offlineCount,
        );
      }
      return { rate, stored, lost };
    });
    const originalRate = results.original.median.rate;
    for (const result of Object.values(results)) {
      result.vsOriginal = result.median.rate / originalRate;
      if (result.rounds.length && 'lost' in result.rounds[0]) {
        result.lostTotal = result.rounds.reduce((sum, m) => sum + m.lost, 0);
        result.expectedTotal = result.rounds.length * dispatches * offlineCount;
      }
    }
    results.raw.note = 'reference: plain publish, no membership check, nothing stored';
    return { dispatches, concurrency: dispatches, members, online: onlineIds.length, rounds: config.rounds, contenders: results };
  } finally {
    await closeAll('sync', contenders);
    await admin.del(CONNECTED, UNDELIVERED);
    admin.disconnect();
  }
}

/**
 * Counts the messages in every undelivered_messages array, polling until the count has not changed
 * for 200 ms (the original Dispatcher's HGET -> HSET appends are fire-and-forget).
 */
async function storedWhenQuiet(admin, quietMs = 200, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await countStored(admin);
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() < deadline) {
    await sleep(25);
    const now = await countStored(admin);
    if (now.stored !== last.stored || now.fields !== last.fields) [last, since] = [now, Date.now()];
  }
  return last;
}

/** How many stored backlogs hold exactly the dispatches 0..expected-1, each once. */
async function completeBacklogs(admin, expected) {
  const hash = await admin.hgetall(UNDELIVERED);
  let complete = 0;
  for (const value of Object.values(hash)) {
    const ids = new Set(JSON.parse(value).map((message) => message?.d?.id));
    const all = ids.size === expected && [...ids].every((id) => Number.isInteger(id) && id >= 0 && id < expected);
    if (all && JSON.parse(value).length === expected) complete++;
  }
  return complete;
}

async function countStored(admin) {
  const hash = await admin.hgetall(UNDELIVERED);
  let stored = 0;
  for (const value of Object.values(hash)) {
    const parsed = JSON.parse(value);
    stored += Array.isArray(parsed) ? parsed.length : 0;
  }
  return { stored, fields: Object.keys(hash).length };
}
