// Scenario 7: what telemetry costs. DispatcherService throughput without sync (2 recipients, `chunk` in flight, as
// the throughput scenario drives it) with telemetry: false, with telemetry on and no OpenTelemetry SDK registered
// (the default: targets within 3 % of telemetry: false), and with an SDK registered that never samples and a
// MeterProvider with a reader (target: within 10 %); and telemetry: false with that same SDK, to tell the library's
// share from the SDK's own (its context manager) in that process. Each contender in a process of its own (an SDK is
// registered process-wide), rounds interleaved, order rotated; ratios are medians of per-round ratios to telemetry:
// false without an SDK.
import { closeAll, ratiosTo, runRounds } from '../support/rounds.js';
import { MODE_TEXT, startContenders } from '../support/hosts.js';
import { CostMeter } from '../support/cost.js';
import { driveRound } from '../support/drive.js';

const KEYS = ['telemetry-off', 'telemetry-nosdk', 'telemetry-sdk', 'telemetry-off-sdk'];
const RATIOS = ['rate', 'clientCpuUs'];

export async function telemetryCost({ config, redis, counter }) {
  const { dispatches, chunk, recipients: recipientCount } = config.telemetry;
  const recipients = Array.from({ length: recipientCount }, (_, i) => `u${i + 1}`);
  const admin = redis.client();
  const meter = new CostMeter(admin);
  let contenders = [];
  try {
    contenders = await startContenders(
      KEYS.map((key) => ({ key })),
      { scenario: 'telemetry', modes: ['isolated'], url: redis.url, nodeArgs: config.appNodeArgs },
    );
    const results = await runRounds('telemetry', contenders, config.rounds, async (contender, index) => {
      const total = index < 0 ? Math.min(dispatches, 5000) : dispatches;
      const { rate, clientCpuUs, gcUs, scavenges } = await driveRound(contender, counter, {
        total,
        chunk,
        recipients,
        what: `telemetry/${contender.key}`,
        meter,
      });
      return { rate, clientCpuUs, gcUs, scavenges };
    });
    ratiosTo(results, 'telemetry-off', RATIOS);
    const slower = (key) => (1 - results[key].ratios.rate.median) * 100;
    return {
      mode: 'isolated',
      modeText: MODE_TEXT.isolated,
      dispatches,
      chunk,
      rounds: config.rounds,
      contenders: results,
      // throughput lost against telemetry: false, in % (negative: faster), median of per-round ratios
      noSdkPercent: slower('telemetry-nosdk'),
      neverSamplingSdkPercent: slower('telemetry-sdk'),
      sdkWithoutTelemetryPercent: slower('telemetry-off-sdk'),
    };
  } finally {
    await closeAll('telemetry', contenders);
    admin.disconnect();
  }
}
