// Scenario 1: throughput without sync. 2 recipients, small JSON payload, N dispatches issued 1000 at a
// time; a chunk is done when the channel subscriber has counted it. Same for every contender.
import { closeAll, runRounds } from '../support/rounds.js';
import { createContender } from '../support/contenders.js';
import { driveRound } from '../support/drive.js';

export async function throughput({ config, redis, counter }) {
  const { dispatches, chunk } = config.throughput;
  const recipients = ['u1', 'u2'];
  const contenders = [];
  for (const key of ['original', 'raw', 'nestjs']) contenders.push(await createContender(key, redis.url));
  try {
    const results = await runRounds('throughput', contenders, config.rounds, async (contender, index) => {
      const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
      const { rate } = await driveRound(contender, counter, { total, chunk, recipients, what: `throughput/${contender.key}` });
      return { rate };
    });
    const rawRate = results.raw.median.rate;
    for (const result of Object.values(results)) result.vsRaw = result.median.rate / rawRate;
    return { dispatches, chunk, recipients: recipients.length, rounds: config.rounds, contenders: results };
  } finally {
    await closeAll('throughput', contenders);
  }
}
