// The dispatch loop shared by the throughput, decorator-overhead and memory scenarios.
// `total` dispatches are issued `chunk` at a time; a chunk is done when its returned promises (if any)
// have settled AND the channel subscriber has counted all of it. Same method for every contender.
import { performance } from 'node:perf_hooks';
import { expectCount } from './checks.js';

/** A small JSON payload, different for every dispatch (as real messages are). */
export function chatPayload(i, to) {
  return to ? { to, id: i, room: 'r1', author: 'u1', text: 'hello world' } : { id: i, room: 'r1', author: 'u1', text: 'hello world' };
}

/**
 * Runs one round and returns { ms, rate }. `envelopesPerDispatch` is how many envelopes one dispatch
 * publishes (1 for every scenario here). `onChunk` is called after each chunk (memory sampling).
 */
export async function driveRound(contender, counter, { total, chunk, recipients, type = 'EVT', payloadWithTo = false, what, onChunk }) {
  counter.reset();
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const size = Math.min(chunk, total - sent);
    const pending = new Array(size);
    for (let i = 0; i < size; i++) {
      pending[i] = contender.dispatch(recipients, chatPayload(sent + i, payloadWithTo ? recipients : undefined), type);
    }
    await Promise.all(pending);
    sent += size;
    await counter.reach(sent);
    onChunk?.(sent);
  }
  await contender.settle();
  const ms = performance.now() - start;
  expectCount(`${what}: envelopes counted on the channel`, await counter.settledCount(), total);
  return { ms, rate: (total * 1000) / ms };
}
