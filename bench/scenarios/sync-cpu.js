// Scenario sync-cpu: what sync costs per dispatch. A 100-member room, 50 online (members of
// connected_clients); 1,000 dispatches to the whole room per round, 100 in flight, after clearing
// undelivered_messages. nestjs-mesa with sync on (and the baseline checkout, if any) against raw ioredis
// as a reference (a plain publish to the room: no membership check, nothing stored). Per round: client CPU,
// Redis command time and Redis CPU per dispatch (support/cost.js), and dispatches/s. Checked: each of the 50
// offline members holds exactly the 1,000 dispatches, each once (the default cap is 1,000: nothing dropped).
// Three unmeasured warm-up rounds per contender first: client CPU was still falling after one.
// `modes`: where the contenders run (hosts.js; both: interleaved in one set of rounds).
import { expectCount } from '../support/checks.js';
import { closeAll, forModes, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { CostMeter } from '../support/cost.js';
import { driveRound } from '../support/drive.js';
import { completeBacklogs, CONNECTED, countStored, makeRoom, UNDELIVERED } from '../support/stored.js';

export async function syncCpu({ config, redis, counter, modes }) {
  const { dispatches, inFlight, members, online, warmupRounds } = config.syncCpu;
  const { room, onlineIds, offlineCount } = makeRoom(members, online);
  const admin = redis.client();
  const meter = new CostMeter(redis.client());
  let contenders = [];
  try {
    await admin.del(CONNECTED, UNDELIVERED);
    await admin.sadd(CONNECTED, ...onlineIds);
    contenders = await startContenders([{ key: 'nestjs', sync: true }, { key: 'raw' }], {
      scenario: 'sync-cpu',
      modes,
      url: redis.url,
      nodeArgs: config.appNodeArgs,
    });
    const round = async (contender, what) => {
      await admin.del(UNDELIVERED);
      const { rate, clientCpuUs, benchCpuUs, redisCmdUs, redisCalls, redisCpuUs, gcUs, scavengeUs, scavenges } = await driveRound(
        contender,
        counter,
        {
          total: dispatches,
          chunk: inFlight,
          recipients: room,
          what,
          meter,
        },
      );
      if (contender.base !== 'raw') {
        // every dispatch promise has resolved, so every append has run: no polling needed
        const { stored, fields } = await countStored(admin);
        expectCount(`${what}: messages stored for offline members`, stored, dispatches * offlineCount);
        expectCount(`${what}: undelivered_messages fields (offline members only)`, fields, offlineCount);
        expectCount(`${what}: offline members holding each dispatch exactly once`, await completeBacklogs(admin, dispatches), offlineCount);
      }
      return { rate, clientCpuUs, benchCpuUs, redisCmdUs, redisCalls, redisCpuUs, gcUs, scavengeUs, scavenges };
    };
    const results = await runRounds('sync-cpu', contenders, config.rounds, async (contender, index) => {
      if (index >= 0) return round(contender, `sync-cpu/${contender.key} round ${index + 1}`);
      for (let pass = 1; pass <= warmupRounds; pass++) await round(contender, `sync-cpu/${contender.key} warm-up ${pass}`);
      return undefined;
    });
    return forModes(results, (group, mode) => {
      ratiosTo(group, 'raw', ['rate', 'clientCpuUs', 'redisCmdUs', 'redisCpuUs']);
      for (const result of Object.values(group))
        if (result.base === 'raw') result.note = 'reference: plain publish to the room, no membership check, nothing stored';
      const common = { dispatches, inFlight, members, online: onlineIds.length, rounds: config.rounds, interleavedModes: modes };
      return { mode, modeText: MODE_TEXT[mode], ...common, contenders: group };
    });
  } finally {
    await closeAll('sync-cpu', contenders);
    await admin.del(CONNECTED, UNDELIVERED);
    admin.disconnect();
    meter.admin.disconnect();
  }
}
