// A contender hosted in its own process: `node contender-process.js <key> <redis url> <sync|nosync>`.
// Two builds of nestjs-mesa in one process share ioredis and Nest, and V8's optimisation of that shared
// code: in one process, the build created first measured 2-3x the client CPU per dispatch of the other,
// with both builds from the same commit. So with BENCH_BASELINE each build runs alone in a process like this
// one (the other contenders stay in the bench's process). The bench sends { id, op, ... } over IPC; this runs the same loops
// as drive.js in this process and answers { id, cpuUs (this process's CPU over the request), samples? }.
import { createContender } from './contenders.js';
import { issueChunks, timeEach } from './drive.js';

const [key, url, sync] = process.argv.slice(2);
const contender = await createContender(key, url, { sync: sync === 'sync', inProcess: true });

process.on('message', async (request) => {
  const cpu = process.cpuUsage();
  try {
    if (request.op === 'close') {
      await contender.close();
      process.send({ id: request.id }, () => process.disconnect());
      return;
    }
    let samples;
    if (request.op === 'chunks') await issueChunks(contender, request);
    else if (request.op === 'each') samples = Array.from(await timeEach(contender, request));
    else throw new Error(`unknown op ${request.op}`);
    await contender.settle();
    const used = process.cpuUsage(cpu);
    process.send({ id: request.id, cpuUs: used.user + used.system, samples });
  } catch (error) {
    process.send({ id: request.id, error: error?.stack ?? String(error) });
  }
});
process.send({ ready: true, label: contender.label });
