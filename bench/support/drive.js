// The dispatch loop shared by the throughput, decorator-overhead, sync and memory scenarios.
// `total` dispatches are issued `chunk` at a time; a chunk is done when Redis has executed all of it:
// its returned promises have settled and, for a contender that returns nothing (the original
// Dispatcher), a PING on its connections has come back (contender.settle()). The round is timed until
// the channel subscriber (another process) has counted all `total` envelopes, and must count exactly that.
// With a `meter` (support/cost.js), the round's client and Redis CPU per dispatch are measured too.
// A contender hosted in another process (`remote`, see hosts.js) runs the same loops there, and reports the
// garbage collections of its process over the round.
import { performance } from 'node:perf_hooks';
import { expectCount } from './checks.js';
import { config } from './config.js';

const prepareGc = config.prepareGc;

/** A small JSON payload, different for every dispatch (as real messages are). */
export function chatPayload(i, to) {
  return to ? { to, id: i, room: 'r1', author: 'u1', text: 'hello world' } : { id: i, room: 'r1', author: 'u1', text: 'hello world' };
}

/**
 * Runs one round and returns { ms, rate } (with `meter`, what meter.stop() returns and the counting subscriber's CPU
 * per dispatch, counterCpuUs; for a remote contender, its
 * process's GC per dispatch: gcUs, scavengeUs, and scavenges per 1,000 dispatches). One dispatch publishes one
 * envelope. `chunk` dispatches are in flight at a time. `newArrays`: every dispatch gets a new copy of
 * `recipients` (as code that builds `[a.id, b.id]` per call does) instead of the same array. `onChunk` is called
 * after each chunk (memory sampling).
 */
export async function driveRound(
  contender,
  counter,
  { total, chunk, recipients, type = 'EVT', payloadWithTo = false, newArrays = false, what, onChunk, meter },
) {
  // a remote contender's process starts every round from the same heap state (app-process.js `prepare`)
  if (contender.remote && prepareGc) await contender.run({ op: 'prepare' });
  counter.reset();
  await meter?.start();
  const start = performance.now();
  const loop = { total, chunk, recipients, type, payloadWithTo, newArrays };
  let remoteCpuUs;
  if (contender.remote) {
    if (onChunk) throw new Error(`${what}: onChunk needs the contender in this process`);
    ({ cpuUs: remoteCpuUs } = await contender.run({ op: 'chunks', ...loop }));
  } else await issueChunks(contender, { ...loop, onChunk });
  // the round ends when every envelope reached the subscriber (the original's sync publishes come after
  // awaited membership checks, so its PINGs alone would end the round too early), then Redis ran the rest
  await counter.reach(total);
  await contender.settle();
  const ms = performance.now() - start;
  const cost = meter && { ...(await meter.stop(total, remoteCpuUs)), counterCpuUs: counter.cpuSinceReset() / total };
  const gc = contender.remote ? gcPerDispatch((await contender.run({ op: 'gc' })).gc, total) : undefined;
  expectCount(`${what}: envelopes counted on the channel`, await counter.settledCount(), total);
  return { ms, rate: (total * 1000) / ms, ...cost, ...gc };
}

/** A remote contender's GC over a round (app-process.js `gc`), per dispatch. */
export function gcPerDispatch(gc, total) {
  return { gcUs: (gc.ms * 1000) / total, scavengeUs: (gc.scavengeMs * 1000) / total, scavenges: (gc.scavenges * 1000) / total };
}

/** Issues `total` dispatches `chunk` at a time, each chunk settled (see the header) before the next. */
export async function issueChunks(
  contender,
  { total, chunk, recipients, type = 'EVT', payloadWithTo = false, newArrays = false, onChunk },
) {
  let sent = 0;
  while (sent < total) {
    const size = Math.min(chunk, total - sent);
    const pending = new Array(size);
    for (let i = 0; i < size; i++) {
      const to = newArrays ? recipients.slice() : recipients;
      pending[i] = contender.dispatch(to, chatPayload(sent + i, payloadWithTo ? to : undefined), type);
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
