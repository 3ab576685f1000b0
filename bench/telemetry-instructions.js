// Instructions per dispatch of the telemetry-cost contenders, counted by valgrind (callgrind), for when wall time on a
// shared machine is too noisy to compare a few percent. One process per count:
//   node bench/telemetry-instructions.js <redis url> <contender> <dispatches>
// runs `dispatches` DispatcherService dispatches (no sync, 2 recipients, 1,000 in flight) as contender
// `telemetry-off` | `telemetry-nosdk` | `telemetry-sdk` | `telemetry-off-sdk` (support/telemetry-contenders.js).
// Run it under `valgrind --tool=callgrind` with two counts; the difference of the totals over the difference of the
// counts is what one dispatch costs, start-up left out:
//   for c in telemetry-off telemetry-nosdk telemetry-sdk; do for n in 2000 12000; do
//     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$c.$n node bench/telemetry-instructions.js $URL $c $n
//   done; done   # then: callgrind_annotate /tmp/cg.<c>.<n> | grep 'PROGRAM TOTALS'
import 'reflect-metadata';
import { loadBuild } from './support/builds.js';
import { issueChunks } from './support/drive.js';
import { telemetryContender } from './support/telemetry-contenders.js';

const [url, key, count] = process.argv.slice(2);
const contender = await telemetryContender(await loadBuild(), key, url);
await issueChunks(contender, { total: Number(count), chunk: 1000, recipients: ['u1', 'u2'] });
await contender.close();
process.stdout.write(`${key}: ${count} dispatches\n`);
