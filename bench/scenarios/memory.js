// Scenario 4: memory. 10^6 dispatches without sync per contender (one run each, not ROUNDS: it is
// long), paced like the throughput scenario. Heap used after a warm-up and a forced GC, against heap
// used at the end after a forced GC; growth in MB, plus the peak seen between chunks.
// Needs --expose-gc (run.js re-spawns itself with it).
import { closeAll } from '../support/rounds.js';
import { fail } from '../support/checks.js';
import { createContender } from '../support/contenders.js';
import { driveRound } from '../support/drive.js';
import { sleep } from '../support/stats.js';

const MB = 1024 * 1024;

export async function memory({ config, redis, counter }) {
  if (typeof globalThis.gc !== 'function') throw new Error('memory scenario needs node --expose-gc');
  const { dispatches, warmup, chunk } = config.memory;
  const recipients = ['u1', 'u2'];
  const results = {};
  for (const key of ['original', 'raw', 'nestjs']) {
    const contender = await createContender(key, redis.url);
    try {
      const what = `memory/${key}`;
      await driveRound(contender, counter, { total: warmup, chunk, recipients, what: `${what} warm-up` });
      const before = await heapAfterGc();
      let peak = before;
      const sampleEvery = Math.max(1, Math.round(dispatches / chunk / 200));
      let chunks = 0;
      const onChunk = () => {
        if (++chunks % sampleEvery === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      };
      const { rate } = await driveRound(contender, counter, { total: dispatches, chunk, recipients, what, onChunk });
      const after = await heapAfterGc();
      results[key] = {
        label: contender.label,
        heapBeforeMB: before / MB,
        heapAfterMB: after / MB,
        growthMB: (after - before) / MB,
        peakAboveBaselineMB: (Math.max(peak, after) - before) / MB,
        rate,
      };
      process.stdout.write(
        `  memory ${key.padEnd(9)} growth=${results[key].growthMB.toFixed(2)} MB peak+${results[key].peakAboveBaselineMB.toFixed(1)} MB rate=${rate.toFixed(0)}/s\n`,
      );
    } catch (error) {
      fail(`memory/${key}`, error?.stack ?? String(error));
    } finally {
      await closeAll('memory', [contender]);
    }
  }
  return { dispatches, warmup, chunk, contenders: results };
}

async function heapAfterGc() {
  // Two collections with a turn of the event loop between them, so that finalized buffers are freed.
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}
