import { Inject, Logger } from '@nestjs/common';
import { concatMap, from, isObservable } from 'rxjs';
import { DispatcherService } from '../dispatcher.service.js';
import { MesaConfigurationError, MesaDispatchError, MesaError, MesaValidationError } from '../errors/mesa.errors.js';
import type { DispatchDecoratorOptions } from '../interfaces/dispatch-options.interface.js';
import { BROADCAST, MESA_DISPATCHER_PROPERTY, OPCODE_DISPATCH } from '../mesa.constants.js';
import { Message } from '../messages/message.js';
import { validateDispatchDecorator } from '../validation/dispatch-decorator.validator.js';

const logger = new Logger('MesaDispatcher');

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
 * - Promise results: the dispatch is awaited before the Promise resolves (so a route answers after
 *   the message is out). Observable results: each emitted value is dispatched, in order, before it
 *   is passed on. Plain values: the dispatch runs in the background and a failure is logged.
 * - Works on controller routes and provider methods, above or below Nest's decorators, on
 *   request-scoped classes; the instance must be created by Nest (it injects `DispatcherService`).
 * - A failed dispatch fails the call (`onError: 'throw'`, the default) or is logged (`'log'`).
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
    Inject(DispatcherService)(target, MESA_DISPATCHER_PROPERTY);
    const send = (dispatcher: DispatcherService, value: R, args: unknown[]) => sendResult(dispatcher, type, options, where, value, args);

    const wrapper = function (this: Record<PropertyKey, unknown>, ...args: unknown[]) {
      const dispatcher = this?.[MESA_DISPATCHER_PROPERTY] as DispatcherService | undefined;
      if (!dispatcher) {
        throw new MesaConfigurationError(
          `@Dispatch('${type}') on ${where}: no DispatcherService was injected. Let Nest create the instance ` +
            '(a provider or controller, not `new`) and import MesaModule (global by default) where it is used.',
        );
      }
      const result = original.apply(this, args);
      if (result instanceof Promise) return result.then((value) => send(dispatcher, value, args));
      if (isObservable(result)) return result.pipe(concatMap((value) => from(send(dispatcher, value as R, args))));
      if (isPromiseLike(result)) return Promise.resolve(result).then((value) => send(dispatcher, value as R, args));
      send(dispatcher, result as R, args).catch((error: Error) => logger.error(error.message));
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
 * Dispatches what one call produced and resolves with that value once Redis took it; when the dispatch
 * fails, rejects (`onError: 'throw'`) or logs and still resolves with the value (`'log'`).
 */
function sendResult<R>(
  dispatcher: DispatcherService,
  type: string,
  options: DispatchDecoratorOptions<R>,
  where: string,
  value: R,
  args: unknown[],
): Promise<R> {
  const failed = (error: unknown): R => {
    const failure = contextualize(error, `@Dispatch('${type}') on ${where}`);
    if ((options.onError ?? dispatcher.decoratorErrorMode) === 'throw') throw failure;
    logger.error(failure.message);
    return value;
  };
  try {
    const recipients = options.broadcast ? BROADCAST_ONLY : select(options.recipients!, value, args);
    if (!options.broadcast && Array.isArray(recipients) && recipients.includes(BROADCAST)) {
      throw new MesaValidationError(
        `the recipients function returned '*'; ids from data never broadcast. Declare { broadcast: true } to send to everyone.`,
      );
    }
    const excluding = options.excluding ? select(options.excluding, value, args) : undefined;
    const data = options.data ? select(options.data, value, args) : value;
    const message = new Message(OPCODE_DISPATCH, data, type, options.sync === false ? NO_SYNC : undefined);
    return dispatcher.dispatch(message, recipients, excluding ?? undefined).then(() => value, failed);
  } catch (error) {
    return Promise.resolve().then(() => failed(error));
  }
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

const BROADCAST_ONLY = [BROADCAST] as const;
const NO_SYNC = { sync: false } as const;

function contextualize(error: unknown, prefix: string): MesaError {
  const message = `${prefix}: ${(error as Error)?.message ?? String(error)}`;
  if (error instanceof MesaDispatchError) return new MesaDispatchError(message, { cause: error });
  return new MesaValidationError(message, { cause: error });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
