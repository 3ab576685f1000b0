// Scenario 3: @Dispatch overhead. A Nest provider's method decorated with
// @Dispatch('EVT', { recipients: (r) => r.to }) returning a Promise, against a direct
// dispatcher.dispatch(new Message(0, data, 'EVT'), data.to) (`nestjs`) and against the same method written
// without the decorator, awaiting dispatcher.dispatch(new Message(0, saved, 'EVT'), saved.to) by hand (`manual`).
// Same payload (it carries `to`) and the same loop for all; the original Dispatcher and raw ioredis run alongside
// as reference. Per round: time and client CPU per call; the ratios of the decorated method to the direct
// dispatch() and to the method by hand are taken round by round against the same build's (and, in-process, the
// same process's) contender, then their median. `modes`: where the contenders run (hosts.js; both: interleaved).
import { closeAll, forModes, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { CostMeter } from '../support/cost.js';
import { driveRound } from '../support/drive.js';

const RATIOS = ['us', 'clientCpuUs'];

export async function decoratorOverhead({ config, redis, counter, modes }) {
  const { dispatches, chunk } = config.decorator;
  const recipients = ['u1', 'u2'];
  const admin = redis.client();
  const meter = new CostMeter(admin);
  let contenders = [];
  try {
    contenders = await startContenders(
      ['manual', 'decorated', 'nestjs', 'original', 'raw'].map((key) => ({ key })),
      { scenario: 'decorator', modes, url: redis.url, nodeArgs: config.appNodeArgs },
    );
    const results = await runRounds('decorator', contenders, config.rounds, async (contender, index) => {
      const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
      const what = `decorator/${contender.key}`;
      const { ms, rate, clientCpuUs, gcUs, scavenges } = await driveRound(contender, counter, {
        total,
        chunk,
        recipients,
        payloadWithTo: true,
        what,
        meter,
      });
      return { rate, us: (ms * 1000) / total, clientCpuUs, gcUs, scavenges };
    });
    return forModes(results, (group, mode) => {
      ratiosTo(group, 'nestjs', RATIOS, 'vsDirect');
      ratiosTo(group, 'manual', RATIOS, 'vsManual');
      return {
        mode,
        modeText: MODE_TEXT[mode],
        dispatches,
        chunk,
        rounds: config.rounds,
        interleavedModes: modes,
        contenders: group,
        // Extra time per call of the decorated method over the same method dispatching by hand, in % (negative: faster).
        overheadPercent: (group.decorated.vsManual.us.median - 1) * 100,
        // The same over a direct dispatcher.dispatch() call.
        overDirectPercent: (group.decorated.vsDirect.us.median - 1) * 100,
      };
    });
  } finally {
    await closeAll('decorator', contenders);
    admin.disconnect();
  }
}
