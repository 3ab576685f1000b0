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
   * A pending DispatchPromise and the functions that settle it. When it is rejected and, by the next
   * macrotask, no caller consumed it, `onUnconsumedRejection` is called with the error.
   */
  static create<T>(onUnconsumedRejection: (error: unknown) => void): {
    promise: DispatchPromise<T>;
    resolve: (value: T) => void;
    reject: (error: unknown) => void;
  } {
    let resolve!: (value: T) => void;
    let settleRejected!: (error: unknown) => void;
    const promise = new DispatchPromise<T>((res, rej) => {
      resolve = res;
      settleRejected = rej;
    });
    const reject = (error: unknown) => {
      Promise.prototype.then.call(promise, undefined, () =>
        setImmediate(() => {
          if (!promise.consumed) onUnconsumedRejection(error);
        }),
      );
      settleRejected(error);
    };
    return { promise, resolve, reject };
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.consumed = true;
    return super.then(onfulfilled, onrejected);
  }
}
