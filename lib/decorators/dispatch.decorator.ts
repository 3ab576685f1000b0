import { Inject, Logger } from '@nestjs/common';
import { concatMap, from, isObservable, map, type Observable, throwError } from 'rxjs';
import { MesaConfigurationError, MesaDispatchError, type MesaError, MesaValidationError } from '../errors/mesa.errors.js';
import type { DispatchDecoratorOptions } from '../interfaces/dispatch-options.interface.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import { BROADCAST_RECIPIENTS } from '../mesa.constants.js';
import { getDispatcherPropertyKey, getDispatcherToken } from '../mesa.tokens.js';
import type { MessageOptions } from '../messages/message.js';
import { checkIdempotencyKey } from '../messages/message-snapshot.js';
import { validateDispatchDecorator } from '../validation/dispatch-decorator.validator.js';
import { checkSelectedRecipients, excludeSelected } from '../validation/dispatch-input.validator.js';
import type { CheckedRecipients } from '../validation/recipient-list-cache.js';
import { sealDispatch, SealedMessage } from '../validation/sealed-dispatch.js';
import { checkSelectedIds } from '../validation/user-ids.validator.js';
import { DecoratedCall, type DecoratedMethod, type DecoratorDispatcher } from './decorated-call.js';

const logger = new Logger('MesaDispatcher');

/** A broadcast's recipients, checked once for every call. */
const BROADCAST_CHECKED: CheckedRecipients = Object.freeze({ ids: BROADCAST_RECIPIENTS, json: JSON.stringify(BROADCAST_RECIPIENTS) });

/**
 * Dispatches what a method returns: calling the method runs it, then sends
 * `new Message(0, data, type)` to the recipients chosen from its result. The return value is unchanged.
 *
 * ```ts
 * @Post(':room/messages')
 * @Dispatch('NEW_MESSAGE', { recipients: (msg: ChatMessage) => msg.room.members, excluding: (msg) => [msg.authorId] })
 * post(@Param('room') room: string, @Body() body: PostDto) { return this.chat.post(room, body); }
 * ```
 *
 * When the selectors run: synchronously, right after the method returned its value; for a Promise, right
 * after it resolved; for an Observable, right after each emission (even while the previous one's dispatch is in flight).
 *
 * Errors, in two kinds:
 * - Invalid message (MesaValidationError): a `recipients` or `excluding` function that returned anything but
 *   an array of user ids (`undefined`, `null`, a string, a Set... are never read as "everyone" or "nobody";
 *   return `[]` for nobody), an id that is not a non-empty, well-formed string, a `'*'` from a selector (only
 *   `broadcast: true` broadcasts), a selector that threw, data JSON cannot carry, a message over
 *   `maxPayloadBytes`. Nothing is published, and the call always fails, whatever `onError` or the module's
 *   `dispatchErrors` say: thrown synchronously by a method returning a plain value, as a rejection of the
 *   returned Promise, or as the Observable's error (after the values emitted before it were dispatched and passed on).
 *   The method itself has already run.
 * - Redis failure (MesaDispatchError). Promise and Observable results: the Promise resolves (or the value is
 *   emitted) once Redis took the message, and a failure rejects it (or errors the Observable) under
 *   `onError: 'throw'` (the default, or the module's `dispatchErrors`), or is logged under `'log'`, the value
 *   then passed on unchanged. Plain values: the value is returned at once, the dispatch runs in the
 *   background, and its failure is always logged. A Promise failed by its dispatch that nobody consumes is
 *   logged (`A dispatch nobody awaited failed: …`), never an unhandled rejection.
 *
 * Works on controller routes and provider methods, above or below Nest's decorators, on request-scoped
 * classes; the instance must be created by Nest (it injects `DispatcherService`). With several `MesaModule`
 * registrations, `dispatcher: 'chat'` dispatches through the one named `'chat'` (default: the unnamed one).
 *
 * @throws MesaConfigurationError at class definition for invalid options, or when neither
 *   `recipients` nor `broadcast: true` is given (no implicit broadcast).
 */
export function Dispatch<R = any>(type: string, options: DispatchDecoratorOptions<R> = {}): MethodDecorator {
  return (target, propertyKey, descriptor: PropertyDescriptor) => {
    const where = `${target.constructor?.name ?? 'anonymous'}.${String(propertyKey)}`;
    validateDispatchDecorator(type, options, where);
    const original = descriptor.value;
    if (typeof original !== 'function') {
      throw new MesaConfigurationError(`@Dispatch('${type}') on ${where}: it decorates methods only.`);
    }
    const property = getDispatcherPropertyKey(options.dispatcher);
    Inject(getDispatcherToken(options.dispatcher))(target, property);
    const context = `@Dispatch('${type}') on ${where}`;
    const messageOptions = messageOptionsOf(options);
    const prepare = (dispatcher: DecoratorDispatcher, value: R, args: unknown[]): SealedMessage => {
      try {
        return sealOutgoing(dispatcher, type, options, messageOptions, value, args);
      } catch (error) {
        throw contextualize(error, context);
      }
    };
    const method: DecoratedMethod = {
      failure: (dispatcher, error) => {
        const failure = contextualize(error, context);
        if (failure instanceof MesaValidationError || (options.onError ?? dispatcher.decoratorErrorMode) === 'throw') return failure;
        logger.error(failure.message);
        return undefined;
      },
      unconsumed: (error) => logger.error(`A dispatch nobody awaited failed: ${(error as Error).message}`),
    };
    // a plain value's dispatch runs in the background: its failure is logged, nothing waits for it
    const logFailure = (error: unknown): void => logger.error(contextualize(error, context).message);
    const background: Settlement = { succeed: () => undefined, fail: logFailure };
    const send = (dispatcher: DecoratorDispatcher, message: SealedMessage, value: R): Promise<R> => {
      const call = new DecoratedCall<R>(method, dispatcher);
      call.dispatch(message, value);
      return call.promise;
    };
    const settle = (dispatcher: DecoratorDispatcher, result: PromiseLike<R>, args: unknown[]): Promise<R> => {
      const call = new DecoratedCall<R>(method, dispatcher);
      result.then(
        (value) => {
          let message: SealedMessage;
          try {
            message = prepare(dispatcher, value, args);
          } catch (error) {
            return call.reject(error as MesaError);
          }
          call.dispatch(message, value);
        },
        () => call.follow(result),
      );
      return call.promise;
    };

    const wrapper = function (this: Record<PropertyKey, unknown>, ...args: unknown[]) {
      const dispatcher = this?.[property] as DecoratorDispatcher | undefined;
      if (!dispatcher) {
        throw new MesaConfigurationError(
          `@Dispatch('${type}') on ${where}: no DispatcherService${options.dispatcher ? ` named '${options.dispatcher}'` : ''} was injected. ` +
            'Let Nest create the instance (a provider or controller, not `new`) and import MesaModule (global by default) where it is used.',
        );
      }
      const result = original.apply(this, args);
      if (isObservable(result)) {
        // checked at emission, failed in order: the values before a refused one are dispatched and passed on first
        return (result as Observable<R>).pipe(
          map((value) => {
            try {
              return { value, message: prepare(dispatcher, value, args) };
            } catch (error) {
              return { value, error };
            }
          }),
          concatMap(({ value, message, error }) => (message ? from(send(dispatcher, message, value)) : throwError(() => error))),
        );
      }
      if (isPromiseLike(result)) return settle(dispatcher, result as PromiseLike<R>, args);
      SealedMessage.settleThrough(prepare(dispatcher, result as R, args), dispatcher, background, logFailure);
      return result;
    };
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapper);
    }
    Object.defineProperty(wrapper, 'name', { value: original.name });
    descriptor.value = wrapper;
    return descriptor;
  };
}

/**
 * Runs the selectors on one result and checks everything the dispatch will check (ids, data, size), so an
 * invalid message fails the call synchronously. The message is sealed with its recipients: the dispatcher
 * publishes that JSON, prepared once. A recipients array returned again comes from the recipient cache.
 */
function sealOutgoing<R>(
  dispatcher: DecoratorDispatcher,
  type: string,
  options: DispatchDecoratorOptions<R>,
  messageOptions: MessageOptions | undefined,
  value: R,
  args: unknown[],
): SealedMessage {
  let recipients: unknown = BROADCAST_RECIPIENTS;
  let excluding: unknown;
  let checked = BROADCAST_CHECKED;
  if (!options.broadcast) {
    recipients = select(options.recipients!, value, args);
    if (options.excluding) {
      const wanted = checkSelectedIds(recipients, 'recipients');
      excluding = select(options.excluding, value, args);
      checked = excludeSelected(wanted, checkSelectedIds(excluding, 'excluding'));
    } else {
      checked = checkSelectedRecipients(recipients);
    }
  }
  const data = options.data ? select(options.data, value, args) : value;
  const key =
    options.idempotencyKey && checkIdempotencyKey(select(options.idempotencyKey, value, args) ?? null, 'what idempotencyKey returned');
  const limit = dispatcher.maxPayloadBytes;
  return sealDispatch(
    type,
    data,
    key ? { ...messageOptions, idempotencyKey: key } : messageOptions,
    checked,
    recipients,
    excluding,
    typeof limit === 'number' ? limit : Number.POSITIVE_INFINITY,
  );
}

/** Calls a selector with the result and the call's arguments (without spreading for the common short lists). */
function select<R, T>(selector: (result: R, ...args: any[]) => T, value: R, args: unknown[]): T {
  switch (args.length) {
    case 0:
      return selector(value);
    case 1:
      return selector(value, args[0]);
    case 2:
      return selector(value, args[0], args[1]);
    default:
      return selector(value, ...args);
  }
}

/** The messages' options (Mesa's `{ sync: false }`, a `ttl`), or none: built once per decorated method. */
function messageOptionsOf(options: DispatchDecoratorOptions): MessageOptions | undefined {
  if (options.sync !== false && options.ttl === undefined) return undefined;
  const messageOptions: MessageOptions = {};
  if (options.sync === false) messageOptions.sync = false;
  if (options.ttl !== undefined) messageOptions.ttl = options.ttl;
  return messageOptions;
}

function contextualize(error: unknown, prefix: string): MesaError {
  const message = `${prefix}: ${(error as Error)?.message ?? String(error)}`;
  if (error instanceof MesaDispatchError) return new MesaDispatchError(message, { cause: error });
  return new MesaValidationError(message, { cause: error });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
