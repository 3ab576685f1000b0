// Scenario 1: throughput without sync. 2 recipients, small JSON payload, N dispatches with 1,000 and then
// 10,000 in flight; a round ends when the channel subscriber has counted every envelope. Same for every
// contender. Per round, also the client CPU, Redis command time and Redis CPU per dispatch (support/cost.js);
// ratios to raw ioredis are taken round by round (contenders run back to back), then their median.
import { closeAll, ratiosTo, runRounds } from '../support/rounds.js';
import { createContender, withBaseline } from '../support/contenders.js';
import { CostMeter } from '../support/cost.js';
import { driveRound } from '../support/drive.js';

const RATIOS = ['rate', 'clientCpuUs', 'redisCmdUs', 'redisCpuUs'];

export async function throughput({ config, redis, counter }) {
  const { dispatches, inFlight, recipients: recipientCount } = config.throughput;
  const recipients = Array.from({ length: recipientCount }, (_, i) => `u${i + 1}`);
  const admin = redis.client();
  const meter = new CostMeter(admin);
  const contenders = [];
  try {
    for (const key of withBaseline(['original', 'raw', 'nestjs']))
      contenders.push(await createContender(key, redis.url, { isolated: Boolean(config.baseline) }));
    const runs = [];
    for (const chunk of inFlight) {
      const results = await runRounds(`throughput ${chunk}`, contenders, config.rounds, async (contender, index) => {
        const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
        const what = `throughput ${chunk}/${contender.key}`;
        const { rate, clientCpuUs, redisCmdUs, redisCpuUs, ceiling } = await driveRound(contender, counter, {
          total,
          chunk,
          recipients,
          what,
          meter,
        });
        return { rate, clientCpuUs, redisCmdUs, redisCpuUs, ceiling };
      });
      ratiosTo(results, 'raw', RATIOS);
      for (const result of Object.values(results)) result.vsRaw = result.ratios.rate.median;
      runs.push({ inFlight: chunk, contenders: results });
    }
    return { dispatches, inFlight, recipients: recipientCount, rounds: config.rounds, runs };
  } finally {
    await closeAll('throughput', contenders);
    admin.disconnect();
  }
}
