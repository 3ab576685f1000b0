// The dispatch loop shared by the throughput, decorator-overhead and memory scenarios.
// `total` dispatches are issued `chunk` at a time; a chunk is done when Redis has executed all of it:
// its returned promises have settled and, for a contender that returns nothing (the original
// Dispatcher), a PING on its connections has come back (contender.settle()). The round is timed until
// the channel subscriber (another process) has counted all `total` envelopes, and must count exactly that.
// With a `meter` (support/cost.js), the round's client and Redis CPU per dispatch are measured too.
// A contender hosted in its own process (`remote`, see contender-process.js) runs the same loops there.
import { performance } from 'node:perf_hooks';
import { expectCount } from './checks.js';

/** A small JSON payload, different for every dispatch (as real messages are). */
export function chatPayload(i, to) {
  return to ? { to, id: i, room: 'r1', author: 'u1', text: 'hello world' } : { id: i, room: 'r1', author: 'u1', text: 'hello world' };
}

/**
 * Runs one round and returns { ms, rate } (and, with `meter`, what meter.stop() returns). One dispatch
 * publishes one envelope. `chunk` dispatches are in flight at a time. `onChunk` is called after each
 * chunk (memory sampling).
 */
export async function driveRound(
  contender,
  counter,
  { total, chunk, recipients, type = 'EVT', payloadWithTo = false, what, onChunk, meter },
) {
  counter.reset();
  await meter?.start();
  const start = performance.now();
  let remoteCpuUs = 0;
  if (contender.remote) {
    if (onChunk) throw new Error(`${what}: onChunk needs the contender in this process`);
    ({ cpuUs: remoteCpuUs } = await contender.run({ op: 'chunks', total, chunk, recipients, type, payloadWithTo }));
  } else await issueChunks(contender, { total, chunk, recipients, type, payloadWithTo, onChunk });
  // the round ends when every envelope reached the subscriber (the original's sync publishes come after
  // awaited membership checks, so its PINGs alone would end the round too early), then Redis ran the rest
  await counter.reach(total);
  await contender.settle();
  const ms = performance.now() - start;
  const cost = await meter?.stop(total, remoteCpuUs);
  expectCount(`${what}: envelopes counted on the channel`, await counter.settledCount(), total);
  return { ms, rate: (total * 1000) / ms, ...cost };
}

/** Issues `total` dispatches `chunk` at a time, each chunk settled (see the header) before the next. */
export async function issueChunks(contender, { total, chunk, recipients, type = 'EVT', payloadWithTo = false, onChunk }) {
  let sent = 0;
  while (sent < total) {
    const size = Math.min(chunk, total - sent);
    const pending = new Array(size);
    for (let i = 0; i < size; i++) {
      pending[i] = contender.dispatch(recipients, chatPayload(sent + i, payloadWithTo ? recipients : undefined), type);
    }
    await Promise.all(pending);
    await contender.settle();
    sent += size;
    onChunk?.(sent);
  }
}

/** Issues `total` dispatches one at a time, each awaited before the next; returns each one's time in µs. */
export async function timeEach(contender, { total, recipients, type = 'EVT' }) {
  const samples = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    await contender.dispatch(recipients, chatPayload(i), type);
    samples[i] = (performance.now() - t0) * 1000;
  }
  return samples;
}
