// Instructions per dispatch of the telemetry-cost contenders, counted by valgrind (callgrind), for when wall time on a
// shared machine is too noisy to compare a few percent. Counting is off until the contender is up and warmed up
// (2,000 dispatches), on for the measured dispatches only (callgrind_control -i on/off on this process):
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.<contender> \
//     node bench/telemetry-instructions.js <redis url> <contender> <dispatches>
//   callgrind_annotate /tmp/cg.<contender> | grep 'PROGRAM TOTALS'     # divided by <dispatches>
// runs DispatcherService dispatches (no sync, 2 recipients, 1,000 in flight) as contender `telemetry-off` |
// `telemetry-nosdk` | `telemetry-sdk` | `telemetry-off-sdk` (support/telemetry-contenders.js).
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { loadBuild } from './support/builds.js';
import { issueChunks } from './support/drive.js';
import { telemetryContender } from './support/telemetry-contenders.js';

const [url, key, count] = process.argv.slice(2);
const instrumentation = (state) =>
  new Promise((resolve, reject) => {
    const control = spawn('callgrind_control', ['-i', state, String(process.pid)], { stdio: 'ignore' });
    control.on('error', reject);
    control.on('exit', resolve);
  });
const loop = { chunk: 1000, recipients: ['u1', 'u2'] };
const contender = await telemetryContender(await loadBuild(), key, url);
await issueChunks(contender, { ...loop, total: 2000 });
await instrumentation('on');
await issueChunks(contender, { ...loop, total: Number(count) });
await instrumentation('off');
await contender.close();
process.stdout.write(`${key}: ${count} dispatches counted\n`);
