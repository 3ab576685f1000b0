/**
 * The Promise `dispatch()` returns. It notes whether anyone consumed it (`await`, `then`, `catch`,
 * `Promise.all`...), so that a rejection nobody consumed is logged instead of becoming an unhandled
 * rejection, and one somebody consumed is left to them.
 */
export class DispatchPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  private consumed = false;
  private settled = false;
  private resolveWith!: (value: T) => void;
  private rejectWith!: (error: unknown) => void;

  /** A pending DispatchPromise, settled later with {@link succeed} or {@link fail}. */
  static pending<T>(): DispatchPromise<T> {
    let resolveWith!: (value: T) => void;
    let rejectWith!: (error: unknown) => void;
    const promise = new DispatchPromise<T>((resolve, reject) => {
      resolveWith = resolve;
      rejectWith = reject;
    });
    promise.resolveWith = resolveWith;
    promise.rejectWith = rejectWith;
    return promise;
  }

  /** Resolves with `value`, unless already settled. */
  succeed(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveWith(value);
  }

  /**
   * Rejects with `error`, unless already settled. When, by the next macrotask, no caller consumed the promise,
   * `onUnconsumed` is called with the error instead of an unhandled rejection happening.
   */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    if (this.settled) return;
    this.settled = true;
    Promise.prototype.then.call(this, undefined, () =>
      setImmediate(() => {
        if (!this.consumed) onUnconsumed(error);
      }),
    );
    this.rejectWith(error);
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.consumed = true;
    return super.then(onfulfilled, onrejected);
  }
}
