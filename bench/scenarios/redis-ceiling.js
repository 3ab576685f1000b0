// Scenario ceiling: what one Redis core can carry. Each contender's commands for a batch of 256 envelopes (2
// recipients, small JSON payload) are encoded once, exactly as that contender sends them, and written to Redis
// back to back over a raw socket, far faster than Redis runs them: Redis is the only busy process, the client
// costs nothing, and Redis's main thread is at 100 % for the whole round. msg/s is envelopes over the round's
// wall time (first write to the PONG after the last command); Redis CPU per message comes from INFO cpu. The
// channel counter (another process, as a Mesa server would be) must count every envelope.
//   raw       256 PUBLISH commands (also what Mesa's own Dispatcher sends without sync)
//   nestjs    one EVALSHA of the batch script, its arguments from the build's own encodeBatch()
//   baseline  the same with the BENCH_BASELINE build's script and encodeBatch()
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { expectCount } from '../support/checks.js';
import { parseRedisCpu } from '../support/cost.js';
import { chatPayload } from '../support/drive.js';
import { ratiosTo, runRounds } from '../support/rounds.js';

const BATCH = 256;
const CHANNEL = 'ws';
const KEYS = ['connected_clients', 'undelivered_messages'];
const CAPS = { maxCount: 1000, maxBytes: 1_048_576 };

export async function redisCeiling({ config, redis, counter }) {
  const { batches } = config.ceiling;
  const envelopes = Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({ message: { op: 0, d: chatPayload(i), t: 'EVT' }, recipients: ['u1', 'u2'] }),
  );
  const admin = redis.client();
  const contenders = [
    { key: 'raw', label: 'raw ioredis publish', batch: Buffer.from(envelopes.map((e) => resp(['PUBLISH', CHANNEL, e])).join('')) },
  ];
  contenders.push(await scripted('nestjs', 'nestjs-mesa batch script', config.repoRoot, envelopes, admin));
  if (config.baseline)
    contenders.push(await scripted('baseline', 'nestjs-mesa batch script @ baseline', config.baseline, envelopes, admin));
  const socket = connect(redis.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  try {
    const results = await runRounds('ceiling', contenders, config.rounds, async (contender, index) => {
      const total = (index < 0 ? Math.max(1, batches >> 3) : batches) * BATCH;
      counter.reset();
      const cpu = parseRedisCpu(await admin.call('INFO', 'cpu'));
      const start = performance.now();
      await writeAll(socket, contender.batch, total / BATCH);
      const ms = performance.now() - start;
      const redisCpuUs = ((parseRedisCpu(await admin.call('INFO', 'cpu')) - cpu) * 1e6) / total;
      await counter.reach(total);
      expectCount(`ceiling/${contender.key}: envelopes counted on the channel`, await counter.settledCount(), total);
      return { rate: (total * 1000) / ms, redisCpuUs, ceiling: 1e6 / redisCpuUs };
    });
    ratiosTo(results, 'raw', ['rate']);
    return { batch: BATCH, batches, rounds: config.rounds, contenders: results };
  } finally {
    socket.destroy();
    admin.disconnect();
  }
}

/** A contender sending a batch as one EVALSHA of the script in `checkout`'s dist, loaded into Redis first. */
async function scripted(key, label, checkout, envelopes, admin) {
  const dist = (path) => import(pathToFileURL(join(checkout, 'dist', path)).href);
  const { DISPATCH_BATCH_SCRIPT } = await dist('redis/dispatch-batch.script.js');
  const { encodeBatch } = await dist('publishing/batch-protocol.js');
  const { mesaRedisNames } = await dist('redis/mesa-redis-names.js');
  const sha = createHash('sha1').update(DISPATCH_BATCH_SCRIPT).digest('hex');
  await admin.call('SCRIPT', 'LOAD', DISPATCH_BATCH_SCRIPT);
  const args = encodeBatch(
    envelopes.map((envelope) => ({ kind: 'publish', envelope })),
    mesaRedisNames(),
    CAPS,
  );
  return { key, label, batch: Buffer.from(resp(['EVALSHA', sha, String(KEYS.length), ...KEYS, ...args])) };
}

/**
 * Writes `batch` `count` times, as fast as the socket takes them (Redis reads as fast as it runs), then a PING;
 * resolves when its PONG arrives, so every command before it has run.
 */
function writeAll(socket, batch, count) {
  return new Promise((resolve, reject) => {
    let tail = '';
    const onData = (chunk) => {
      tail = (tail + chunk.toString('latin1')).slice(-7);
      if (!tail.endsWith('+PONG\r\n')) return;
      socket.off('data', onData).off('error', reject);
      resolve();
    };
    socket.on('data', onData).once('error', reject);
    let written = 0;
    const pump = () => {
      while (written < count) {
        written++;
        if (!socket.write(batch)) return void socket.once('drain', pump);
      }
      socket.write('*1\r\n$4\r\nPING\r\n');
    };
    pump();
  });
}

/** A command in RESP. */
function resp(parts) {
  let text = `*${parts.length}\r\n`;
  for (const part of parts) text += `$${Buffer.byteLength(part)}\r\n${part}\r\n`;
  return text;
}
