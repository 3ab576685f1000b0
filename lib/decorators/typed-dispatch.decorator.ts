import type { Observable } from 'rxjs';
import type { EventMap, EventType } from '../events/event-map.js';
import type { DispatchDecoratorOptions, ResultSelector } from '../interfaces/dispatch-options.interface.js';
import { Dispatch } from './dispatch.decorator.js';

/** What a decorated method may return for its result (or each emitted value) to be of type `R`. */
export type DispatchSource<R> = R | PromiseLike<R> | Observable<R>;

/** A method decorator that accepts only methods whose result is of type `R` (sync, Promise or Observable). */
export type TypedMethodDecorator<R> = <M extends (...args: any[]) => DispatchSource<R>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => TypedPropertyDescriptor<M> | void;

/** `@Dispatch` options with a `data` function that must return the event's payload `P`. */
export type TypedDispatchOptionsWithData<R, P> = Omit<DispatchDecoratorOptions<R>, 'data'> & { data: ResultSelector<R, P> };

/** `@Dispatch` options without `data`: the method's result is the payload `P` itself. */
export type TypedDispatchOptions<P> = Omit<DispatchDecoratorOptions<P>, 'data'> & { data?: undefined };

/**
 * `@Dispatch` checked against an {@link EventMap}: the type must be one of its event types, and the data
 * (the `data` function's return, or else the method's result) that event's payload.
 */
export interface TypedDispatch<Events extends EventMap> {
  /** With `data`: its return is checked against the payload; `R` (the method's result) is the selectors' input. */
  <K extends EventType<Events>, R = any>(type: K, options: TypedDispatchOptionsWithData<R, Events[K]>): TypedMethodDecorator<R>;
  /** Without `data`: the method must return (or resolve to, or emit) the payload; selectors receive it typed. */
  <K extends EventType<Events>>(type: K, options: TypedDispatchOptions<Events[K]>): TypedMethodDecorator<Events[K]>;
}

/**
 * Returns `@Dispatch` typed for `Events` (the same decorator at run time: no cost, no behaviour change).
 *
 * ```ts
 * export const Dispatch = createTypedDispatch<ChatEvents>();
 *
 * @Dispatch('NEW_MESSAGE', { recipients: (msg) => msg.members, data: (msg) => ({ room: msg.room, text: msg.text }) })
 * post(...): Promise<ChatMessage> { ... }
 *
 * @Dispatch('NEW_MESSAGE', { data: (msg) => ({ text: 1 }), broadcast: true }) // compile error: wrong payload
 * @Dispatch('NEW_MESAGE', { broadcast: true })                                 // compile error: unknown type
 * ```
 *
 * Without `data`, the decorated method's result must be the payload, and `recipients`/`excluding`
 * receive it typed. With `data`, annotate the selectors' parameter (`(msg: ChatMessage) => ...`) to
 * also check the method's result against it.
 */
export function createTypedDispatch<Events extends EventMap>(): TypedDispatch<Events> {
  return Dispatch as unknown as TypedDispatch<Events>;
}
