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

  /**
   * Wraps `work`; when it rejects and, by the next macrotask, no caller consumed the promise,
   * `onUnconsumedRejection` is called with the error.
   */
  static track<T>(work: Promise<T>, onUnconsumedRejection: (error: unknown) => void): DispatchPromise<T> {
    const promise = new DispatchPromise<T>((resolve, reject) => work.then(resolve, reject));
    Promise.prototype.then.call(promise, undefined, (error: unknown) => {
      setImmediate(() => {
        if (!promise.consumed) onUnconsumedRejection(error);
      });
    });
    return promise;
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.consumed = true;
    return super.then(onfulfilled, onrejected);
  }
}
