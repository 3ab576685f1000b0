// Scenario 3: @Dispatch overhead. A Nest provider's method decorated with
// @Dispatch('EVT', { recipients: (r) => r.to }) returning a Promise, against the same method written
// without the decorator, awaiting dispatcher.dispatch(new Message(0, saved, 'EVT'), saved.to) by hand.
// Same payload (it carries `to`) and the same loop for all; a bare dispatch() loop, the original
// Dispatcher and raw ioredis run alongside as reference.
import { closeAll, runRounds } from '../support/rounds.js';
import { createContender } from '../support/contenders.js';
import { driveRound } from '../support/drive.js';

export async function decoratorOverhead({ config, redis, counter }) {
  const { dispatches, chunk } = config.decorator;
  const recipients = ['u1', 'u2'];
  const contenders = [];
  for (const key of ['manual', 'decorated', 'nestjs', 'original', 'raw']) contenders.push(await createContender(key, redis.url));
  try {
    const results = await runRounds('decorator', contenders, config.rounds, async (contender, index) => {
      const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
      const what = `decorator/${contender.key}`;
      const { rate } = await driveRound(contender, counter, { total, chunk, recipients, payloadWithTo: true, what });
      return { rate };
    });
    const direct = results.manual.median.rate;
    const decorated = results.decorated.median.rate;
    return {
      dispatches,
      chunk,
      rounds: config.rounds,
      contenders: results,
      // Extra time per call of the decorated method over the same method dispatching by hand, in % (negative: faster).
      overheadPercent: (direct / decorated - 1) * 100,
    };
  } finally {
    await closeAll('decorator', contenders);
  }
}
