/** The resolving function the next `DispatchPromise` constructed by {@link DispatchPromise.pending} takes. */
let capturedResolve: ((value: unknown) => void) | undefined;
const captureResolve = (resolve: (value: unknown) => void): void => {
  capturedResolve = resolve;
};

const CONSUMED = 1;
const SETTLED = 2;

/**
 * The Promise `dispatch()` returns. It notes whether anyone consumed it (`await`, `then`, `catch`,
 * `Promise.all`...), so that a rejection nobody consumed is logged instead of becoming an unhandled
 * rejection, and one somebody consumed is left to them. Its `constructor` is `Promise`, so awaiting it costs
 * what awaiting a native promise does.
 *
 * Many thousands may be in flight at once, so each keeps only what it must: one flags field and its resolving
 * function (a rejection resolves it with a thenable that rejects).
 */
export class DispatchPromise<T> extends Promise<T> {
  private state = 0;
  private readonly resolveWith?: (value: unknown) => void;

  constructor(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void) {
    super(executor);
    if (executor === (captureResolve as unknown)) {
      this.resolveWith = capturedResolve;
      capturedResolve = undefined;
    }
  }

  /** A pending DispatchPromise, settled later with {@link succeed} or {@link fail}. */
  static pending<T>(): DispatchPromise<T> {
    return new DispatchPromise<T>(captureResolve as never);
  }

  /** Resolves with `value`, unless already settled. */
  succeed(value: T): void {
    if (this.state & SETTLED) return;
    this.state |= SETTLED;
    this.resolveWith?.(value);
  }

  /** Settles as `thenable` does, unless already settled (a rejection nobody consumes is then unhandled, as the thenable's would be). */
  follow(thenable: PromiseLike<T>): void {
    if (this.state & SETTLED) return;
    this.state |= SETTLED;
    this.resolveWith?.(thenable);
  }

  /**
   * Rejects with `error`, unless already settled. When, by the next macrotask, no caller consumed the promise,
   * `onUnconsumed` is called with the error instead of an unhandled rejection happening.
   */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    if (this.state & SETTLED) return;
    this.state |= SETTLED;
    const consumed = this.state & CONSUMED;
    Promise.prototype.then.call(this, undefined, () =>
      setImmediate(() => {
        if (!(this.state & CONSUMED)) onUnconsumed(error);
      }),
    );
    this.state = (this.state & ~CONSUMED) | consumed;
    this.resolveWith?.({ then: (_: unknown, reject: (reason: unknown) => void) => reject(error) });
  }
}

// Every way of consuming a promise reads its `constructor` (await, then, catch, finally, Promise.all and its
// kin, returning it from an async function), and none of the ways of merely holding, inspecting or logging one
// does: reading it marks the promise consumed. It answers Promise, so await and Promise.all take the promise as
// it is (no wrapper promise, no extra job per dispatch) and what then() derives is a native Promise.
const prototype = DispatchPromise.prototype;
Object.defineProperty(prototype, 'constructor', {
  get(this: { state: number }) {
    if ((this as unknown) !== prototype) this.state |= CONSUMED;
    return Promise;
  },
  configurable: true,
});
