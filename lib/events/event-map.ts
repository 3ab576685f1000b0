import { OPCODE_DISPATCH } from '../mesa.constants.js';
import { Message, type Dispatchable, type DispatchEvent, type MessageOptions } from '../messages/message.js';

/**
 * A map of event types to their payloads, declared once by the application, e.g.
 *
 * ```ts
 * interface ChatEvents {
 *   NEW_MESSAGE: { room: string; text: string };
 *   TYPING: { room: string; userId: string };
 *   PING: undefined;
 * }
 * ```
 *
 * Any interface or object type fits. It exists only for the compiler: nothing of it is checked or
 * kept at run time.
 */
export type EventMap = Record<string, any>;

/**
 * The untyped default: any event type with any data (what every API accepts without a map). Also what
 * `DispatcherService` is where Nest infers it (`moduleRef.get(DispatcherService)`).
 */
export type AnyEvents = Record<string, any>;

/** The event types of `Events`: its string keys (`string` for {@link AnyEvents}). */
export type EventType<Events extends EventMap> = keyof Events & string;

/**
 * A dispatch message (`op` 0) whose type is `K` and whose data is `Events[K]`, as {@link typedMessage}
 * builds it. At run time it is a plain {@link Message}.
 */
export type TypedMessage<Events extends EventMap, K extends EventType<Events> = EventType<Events>> = Message<Events[K]> & {
  readonly type: K;
};

/** Every {@link TypedMessage} of `Events`: one member per event type, told apart by `type`. */
export type AnyTypedMessage<Events extends EventMap> = {
  [K in EventType<Events>]: TypedMessage<Events, K>;
}[EventType<Events>];

/**
 * What `dispatch()` accepts for `Events`: without a map (the default {@link AnyEvents}) any
 * {@link Dispatchable}; with one, a {@link TypedMessage} of one of its events, or a `DispatchEvent`.
 */
export type DispatchableFor<Events extends EventMap> = string extends keyof Events ? Dispatchable : AnyTypedMessage<Events> | DispatchEvent;

/** The arguments after the type: data required, unless the event's payload may be `undefined`. */
export type TypedMessageArgs<P> = undefined extends P ? [data?: P, options?: MessageOptions] : [data: P, options?: MessageOptions];

/** Builds dispatch messages of one {@link EventMap}; see {@link typedMessage}. */
export type TypedMessageFactory<Events extends EventMap> = <K extends EventType<Events>>(
  type: K,
  ...args: TypedMessageArgs<Events[K]>
) => TypedMessage<Events, K>;

const createMessage = (type: string, data?: unknown, options?: MessageOptions) => new Message(OPCODE_DISPATCH, data, type, options);

/**
 * A factory of messages checked against `Events` at compile time: the type must be one of its keys,
 * the data that key's payload. At run time it is `new Message(0, data, type, options)`.
 *
 * ```ts
 * const chatMessage = typedMessage<ChatEvents>();
 * await dispatcher.dispatch(chatMessage('NEW_MESSAGE', { room, text }), members);
 * chatMessage('NEW_MESSAGE', { text: 1 }); // compile error: wrong payload
 * chatMessage('NEW_MESAGE', { room, text }); // compile error: unknown type
 * ```
 */
export function typedMessage<Events extends EventMap>(): TypedMessageFactory<Events> {
  return createMessage as unknown as TypedMessageFactory<Events>;
}
