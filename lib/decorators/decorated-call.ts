import { DispatchPromise } from '../dispatch-promise.js';
import type { MesaError } from '../errors/mesa.errors.js';
import type { DispatchErrorMode } from '../interfaces/mesa-module-options.interface.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import { SealedMessage, type SealedDispatchTarget } from '../validation/sealed-dispatch.js';

/** The part of `DispatcherService` (or `RecordingDispatcher`) `@Dispatch` uses. */
export interface DecoratorDispatcher extends SealedDispatchTarget<unknown> {
  readonly decoratorErrorMode: DispatchErrorMode;
  readonly maxPayloadBytes: number;
}

/** What one decorated method does with its calls' failures (made once per method). */
export interface DecoratedMethod {
  /** The error a call through `dispatcher` rejects with for `error`, or undefined once it is logged (`onError: 'log'`). */
  failure(dispatcher: DecoratorDispatcher, error: unknown): MesaError | undefined;
  /** Logs a failure whose promise nobody consumed. */
  unconsumed(error: unknown): void;
}

/**
 * @internal What settles the promise a `@Dispatch` method returns for a value it resolved (or an Observable
 * emitted): the dispatcher settles this call itself (see `MESA_SETTLED_DISPATCH`), so the promise resolves with the
 * method's value once Redis took the message, or fails as the method says; no promise is made for the dispatch and
 * no job runs between the two. A failure nobody consumes is logged, never an unhandled rejection.
 */
export class DecoratedCall<R> implements Settlement {
  /** What the decorated method returns. */
  readonly promise = DispatchPromise.pending<R>();
  private value: R | undefined;

  constructor(
    private readonly method: DecoratedMethod,
    private readonly dispatcher: DecoratorDispatcher,
  ) {}

  /** Dispatches `message`; the promise then resolves with `value` (or fails, see {@link fail}). */
  dispatch(message: SealedMessage, value: R): void {
    this.value = value;
    SealedMessage.settleThrough(message, this.dispatcher, this, this.method.unconsumed);
  }

  /** Fails the call with `error` (a refused message, already worded for the method), unless already settled. */
  reject(error: MesaError): void {
    this.promise.fail(error, this.method.unconsumed);
  }

  /** Settles as the method's own promise did when it rejected: with that same error, unhandled if nobody consumes it. */
  follow(result: PromiseLike<R>): void {
    this.promise.follow(result);
  }

  /** The dispatch succeeded: resolves with the method's value. */
  succeed(): void {
    this.promise.succeed(this.value as R);
  }

  /** The dispatch failed: rejects or, once the failure is logged (`onError: 'log'`), resolves with the method's value. */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    const failure = this.method.failure(this.dispatcher, error);
    if (failure) this.promise.fail(failure, onUnconsumed);
    else this.promise.succeed(this.value as R);
  }
}
