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
 * rejection, and one somebody consumed is left to them.
 *
 * Many thousands may be in flight at once, so each keeps only what it must: one flags field and its resolving
 * function (a rejection resolves it with a thenable that rejects).
 */
export class DispatchPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

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

  /**
   * Rejects with `error`, unless already settled. When, by the next macrotask, no caller consumed the promise,
   * `onUnconsumed` is called with the error instead of an unhandled rejection happening.
   */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    if (this.state & SETTLED) return;
    this.state |= SETTLED;
    Promise.prototype.then.call(this, undefined, () =>
      setImmediate(() => {
        if (!(this.state & CONSUMED)) onUnconsumed(error);
      }),
    );
    this.resolveWith?.({ then: (_: unknown, reject: (reason: unknown) => void) => reject(error) });
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.state |= CONSUMED;
    return super.then(onfulfilled, onrejected);
  }
}
