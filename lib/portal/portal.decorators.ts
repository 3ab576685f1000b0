import { MesaConfigurationError } from '../errors/mesa.errors.js';
import { MESA_PORTAL_ARGS_METADATA, MESA_PORTAL_EVENT_ARGUMENT, MESA_PORTAL_HANDLER_METADATA } from '../mesa.constants.js';
import type { MesaPortalEventType } from './portal-protocol.js';

/** What one `@OnMesa…` decorator recorded on a method. */
export interface MesaPortalHandlerMetadata {
  /** The kind of client event the method handles. */
  event: MesaPortalEventType;
  /** For `message`: the frame type (`t`) it is limited to; absent means every message. */
  messageType?: string;
}

/**
 * Handles frames that clients send over their Mesa WebSocket (through Mesa's Portal), optionally only
 * those of one type (`t`). The method receives one {@link MesaClientMessage}; guards, interceptors,
 * pipes (on that argument) and exception filters declared on it apply, with `getType() === 'mesa'`.
 * It may also carry `@Dispatch(...)`, in either order.
 *
 * ```ts
 * @OnMesaMessage('TYPING')
 * @Dispatch('TYPING', { recipients: (t: Typing) => t.others })
 * onTyping(message: MesaClientMessage): Typing { ... }
 * ```
 *
 * Requires `MesaModule.forRoot({ portal: { enabled: true }, ... })` and a singleton provider or controller.
 * @throws MesaConfigurationError at class definition when `type` is not a non-empty string or the target is not a method.
 */
export function OnMesaMessage(type?: string): MethodDecorator {
  if (type !== undefined && (typeof type !== 'string' || type.length === 0)) {
    throw new MesaConfigurationError(`@OnMesaMessage(type): type must be a non-empty string (the frame's t) or omitted for every message.`);
  }
  return portalHandler('OnMesaMessage', type === undefined ? { event: 'message' } : { event: 'message', messageType: type }, true);
}

/**
 * Handles a client authenticating with a Mesa server; the method receives the user id (`clientId: string`).
 * Same rules as {@link OnMesaMessage}.
 */
export function OnMesaAuthentication(): MethodDecorator {
  return portalHandler('OnMesaAuthentication', { event: 'authentication' }, true);
}

/**
 * Handles a socket closing; the method receives the user id (`clientId?: string`, absent when the socket
 * never authenticated). Same rules as {@link OnMesaMessage}.
 */
export function OnMesaDisconnection(): MethodDecorator {
  return portalHandler('OnMesaDisconnection', { event: 'disconnection' }, true);
}

/** Handles a socket connecting to a Mesa server (Mesa says nothing more); the method receives no argument. */
export function OnMesaConnection(): MethodDecorator {
  return portalHandler('OnMesaConnection', { event: 'connection' }, false);
}

/**
 * Records the registration on the function itself (so `@Dispatch`, which replaces the function, carries
 * it over in either order) and declares the first argument to Nest so that pipes apply to it.
 */
function portalHandler(name: string, metadata: MesaPortalHandlerMetadata, takesArgument: boolean): MethodDecorator {
  return (target, propertyKey, descriptor: PropertyDescriptor) => {
    const method = descriptor?.value;
    if (typeof method !== 'function') {
      throw new MesaConfigurationError(`@${name}() on ${describeTarget(target, propertyKey)}: it decorates methods only.`);
    }
    const existing = (Reflect.getMetadata(MESA_PORTAL_HANDLER_METADATA, method) as MesaPortalHandlerMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(MESA_PORTAL_HANDLER_METADATA, [...existing, metadata], method);
    if (takesArgument && !Reflect.hasOwnMetadata(MESA_PORTAL_ARGS_METADATA, target.constructor, propertyKey)) {
      Reflect.defineMetadata(
        MESA_PORTAL_ARGS_METADATA,
        { [`${MESA_PORTAL_EVENT_ARGUMENT}:0`]: { index: 0, pipes: [] } },
        target.constructor,
        propertyKey,
      );
    }
    return descriptor;
  };
}

function describeTarget(target: object, propertyKey: string | symbol): string {
  return `${(target as { constructor?: { name?: string } }).constructor?.name ?? 'anonymous'}.${String(propertyKey)}`;
}
