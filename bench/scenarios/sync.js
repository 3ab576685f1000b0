// Scenario 2: sync. A 100-member room, 50 online (members of connected_clients), every dispatch goes to
// the whole room: published to the 50 online, stored for the 50 offline (backlogs up to D messages).
// undelivered_messages is cleared before every round. LOST = D x 50 expected stored minus what the
// undelivered_messages hash arrays actually hold once the writes have stopped. `modes`: where the contenders
// run (hosts.js; both: interleaved in one set of rounds); the ratio to the original is taken round by round against the original of the same process
// in-process (the only one, isolated).
import { expectCount } from '../support/checks.js';
import { closeAll, forModes, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { driveRound } from '../support/drive.js';
import { completeBacklogs, CONNECTED, makeRoom, storedWhenQuiet, UNDELIVERED } from '../support/stored.js';

export async function sync({ config, redis, counter, modes }) {
  const { dispatches, members, online } = config.sync;
  const { room, onlineIds, offlineCount } = makeRoom(members, online);
  const admin = redis.client();
  let contenders = [];
  try {
    await admin.del(CONNECTED, UNDELIVERED);
    await admin.sadd(CONNECTED, ...onlineIds);
    // raw ioredis is a reference only: it publishes to the room, stores nothing
    contenders = await startContenders([{ key: 'original', sync: true }, { key: 'nestjs', sync: true }, { key: 'raw' }], {
      scenario: 'sync',
      modes,
      url: redis.url,
      nodeArgs: config.appNodeArgs,
    });
    const results = await runRounds('sync', contenders, config.rounds, async (contender, index) => {
      await admin.del(UNDELIVERED);
      const what = `sync/${contender.key}${index < 0 ? ' warm-up' : ` round ${index + 1}`}`;
      const { rate } = await driveRound(contender, counter, { total: dispatches, chunk: dispatches, recipients: room, what });
      if (contender.base === 'raw') return { rate };
      const { stored, fields } = await storedWhenQuiet(admin);
      const lost = dispatches * offlineCount - stored;
      if (contender.base === 'nestjs') {
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
    return forModes(results, (group, mode) => {
      ratiosTo(group, 'original', ['rate'], 'ratiosToOriginal');
      for (const result of Object.values(group)) {
        result.vsOriginal = result.ratiosToOriginal.rate.median;
        if (result.base === 'raw') result.note = 'reference: plain publish, no membership check, nothing stored';
        else {
          result.lostTotal = result.rounds.reduce((sum, m) => sum + m.lost, 0);
          result.expectedTotal = result.rounds.length * dispatches * offlineCount;
        }
      }
      const common = {
        dispatches,
        concurrency: dispatches,
        members,
        online: onlineIds.length,
        rounds: config.rounds,
        interleavedModes: modes,
      };
      return { mode, modeText: MODE_TEXT[mode], ...common, contenders: group };
    });
  } finally {
    await closeAll('sync', contenders);
    await admin.del(CONNECTED, UNDELIVERED);
    admin.disconnect();
  }
}
