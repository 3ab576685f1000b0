// Scenario single: one dispatch at a time. Each dispatch (2 recipients, small JSON payload) is awaited before
// the next is issued, so nothing is batched or pipelined behind it: the time from the call to its settled
// Promise is one round trip to Redis plus the dispatcher's own work. p50 and p99 per round in µs; the ratio
// to raw ioredis (auto-pipelined publish) is taken round by round, then its median. The original Dispatcher
// returns nothing to await, so it cannot take part. Checked: the channel subscriber counted every dispatch.
// `modes`: where the contenders run (hosts.js; both: interleaved in one set of rounds); the samples are taken in the process hosting each contender.
import { performance } from 'node:perf_hooks';
import { expectCount } from '../support/checks.js';
import { closeAll, forModes, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { percentile } from '../support/stats.js';

export async function singleDispatch({ config, redis, counter, modes }) {
  const { dispatches, warmup, recipients: recipientCount } = config.single;
  const recipients = Array.from({ length: recipientCount }, (_, i) => `u${i + 1}`);
  let contenders = [];
  try {
    contenders = await startContenders([{ key: 'raw' }, { key: 'nestjs' }], {
      scenario: 'single',
      modes,
      url: redis.url,
      nodeArgs: config.appNodeArgs,
    });
    const results = await runRounds('single', contenders, config.rounds, async (contender, index) => {
      const total = index < 0 ? warmup : dispatches;
      const what = `single/${contender.key}${index < 0 ? ' warm-up' : ` round ${index + 1}`}`;
      counter.reset();
      const start = performance.now();
      const { samples } = await contender.run({ op: 'each', total, recipients });
      const ms = performance.now() - start;
      await counter.reach(total);
      expectCount(`${what}: envelopes counted on the channel`, await counter.settledCount(), total);
      return { p50: percentile(samples, 50), p99: percentile(samples, 99), rate: (total * 1000) / ms };
    });
    return forModes(results, (group, mode) => {
      ratiosTo(group, 'raw', ['p50', 'p99']);
      const common = { dispatches, recipients: recipientCount, rounds: config.rounds, interleavedModes: modes };
      return { mode, modeText: MODE_TEXT[mode], ...common, contenders: group };
    });
  } finally {
    await closeAll('single', contenders);
  }
}
