import type { DispatchResult } from './dispatch-result.interface.js';

/**
 * @internal How a dispatch's outcome reaches its caller: the `DispatchPromise` `dispatch()` returns, what stands
 * between it and the queue (`RetriedDispatch`, `TrackedDispatch`), or the promise of a `@Dispatch` method.
 */
export interface Settlement {
  succeed(result: DispatchResult): void;
  /** `onUnconsumed` is called with `error` when nobody consumed the caller's promise (see `DispatchPromise.fail`). */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void;
}
