import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';

/** What a registration's dispatch queue holds now. */
export interface QueueLoad {
  /** Dispatches waiting unsent. */
  queued: number;
  /** Characters of the dispatches waiting unsent. */
  queuedBytes: number;
  /** Dispatches written to Redis and not answered yet. */
  unanswered: number;
}

const sources = new WeakMap<ResolvedMesaOptions, () => QueueLoad>();

/**
 * Makes `read` the source of the queue load of the registration whose resolved options are `options` (its
 * publisher calls it once; `undefined` when it closes), for the gauges and the health indicator.
 */
export function reportQueueLoad(options: ResolvedMesaOptions, read: (() => QueueLoad) | undefined): void {
  if (read) sources.set(options, read);
  else sources.delete(options);
}

/** The queue load source of the registration whose resolved options are `options`; undefined when it has no publisher (yet). */
export function queueLoadOf(options: ResolvedMesaOptions): (() => QueueLoad) | undefined {
  return sources.get(options);
}

/**
 * How full the queue is, from 0 to 1: the larger of its two fills, dispatches against `maxQueuedDispatches` and
 * characters against `maxQueuedBytes` (a dispatch is refused as "not sent" once either bound is reached).
 */
export function queueFill(load: QueueLoad, options: Pick<ResolvedMesaOptions, 'maxQueuedDispatches' | 'maxQueuedBytes'>): number {
  return Math.min(1, Math.max(load.queued / options.maxQueuedDispatches, load.queuedBytes / options.maxQueuedBytes));
}
