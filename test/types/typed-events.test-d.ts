/**
 * Compile-time checks of typed events (`npm run test:types`, and `npm run typecheck`): each
 * `@ts-expect-error` line must fail to compile, every other line must compile. Never run.
 */
import { Observable, of } from 'rxjs';
import {
  createTypedDispatch,
  DispatchEvent,
  DispatcherService,
  Message,
  RecordingDispatcher,
  typedMessage,
  type TypedMessage,
} from '../../lib/index.js';

interface ChatEvents {
  NEW_MESSAGE: { room: string; text: string };
  TYPING: { room: string; userId: string };
  PING: undefined;
}

interface ChatMessage {
  room: string;
  text: string;
  authorId: string;
  members: string[];
}

declare const typed: DispatcherService<ChatEvents>;
declare const untyped: DispatcherService;
const chatMessage = typedMessage<ChatEvents>();

// typedMessage: known types with their payloads
const newMessage: TypedMessage<ChatEvents, 'NEW_MESSAGE'> = chatMessage('NEW_MESSAGE', { room: 'r', text: 'hi' });
chatMessage('TYPING', { room: 'r', userId: 'u' }, { sync: false });
chatMessage('PING');
// @ts-expect-error wrong payload
chatMessage('NEW_MESSAGE', { room: 'r', text: 1 });
// @ts-expect-error missing payload field
chatMessage('NEW_MESSAGE', { room: 'r' });
// @ts-expect-error payload of another event
chatMessage('TYPING', { room: 'r', text: 'hi' });
// @ts-expect-error unknown event type
chatMessage('NEW_MESAGE', { room: 'r', text: 'hi' });
// @ts-expect-error payload required
chatMessage('NEW_MESSAGE');

// DispatcherService<ChatEvents>: typed messages and internal events only
void typed.dispatch(newMessage, ['alice']);
void typed.dispatch(chatMessage('TYPING', { room: 'r', userId: 'u' }), ['alice'], ['bob']);
void typed.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['alice']);
void typed.broadcast(chatMessage('PING'));
void typed.broadcast(chatMessage('PING'), { excluding: ['alice'] });
// @ts-expect-error excluding is required in broadcast options
void typed.broadcast(chatMessage('PING'), {});
void typed.disconnect(['alice']);
// @ts-expect-error an untyped Message does not name one of the events
void typed.dispatch(new Message(0, { room: 'r', text: 'hi' }, 'NEW_MESSAGE'), ['alice']);
// @ts-expect-error a message typed by another event map, with a payload that does not match
void typed.dispatch(typedMessage<{ NEW_MESSAGE: { text: number } }>()('NEW_MESSAGE', { text: 1 }), ['alice']);
// @ts-expect-error an untyped Message in broadcast
void typed.broadcast(new Message(0, {}, 'PING'));

// DispatcherService without a map: unchanged, anything goes
void untyped.dispatch(new Message(0, { anything: true }, 'WHATEVER'), ['alice']);
void untyped.dispatch(newMessage, ['alice']);
void untyped.broadcast(new Message(0, 42));
// where Nest infers the instance type (moduleRef.get(DispatcherService)), it stays untyped
declare function get<T>(type: abstract new (...args: any[]) => T): T;
void get(DispatcherService).dispatch(new Message(0, { anything: true }, 'WHATEVER'), ['alice']);
const asUntyped: Pick<DispatcherService, 'dispatch' | 'broadcast' | 'disconnect'> = typed;
void asUntyped;

// RecordingDispatcher<ChatEvents> stands in for DispatcherService<ChatEvents>
const recording = new RecordingDispatcher<ChatEvents>();
const stand: Pick<DispatcherService<ChatEvents>, 'dispatch' | 'broadcast'> = recording;
void stand.dispatch(newMessage, ['alice']);
// @ts-expect-error wrong payload through the testing double too
void recording.dispatch(new Message(0, { text: 1 }, 'NEW_MESSAGE'), ['alice']);

// createTypedDispatch: type names and payloads checked at the decorator
const Dispatch = createTypedDispatch<ChatEvents>();
declare function load(): ChatMessage;

export class ChatService {
  @Dispatch('NEW_MESSAGE', { recipients: (msg: ChatMessage) => msg.members, data: (msg) => ({ room: msg.room, text: msg.text }) })
  post(): Promise<ChatMessage> {
    return Promise.resolve(load());
  }

  @Dispatch('NEW_MESSAGE', { recipients: (msg) => [msg.room], excluding: (msg) => [msg.text] })
  postPayload(): { room: string; text: string } {
    return { room: 'r', text: 'hi' };
  }

  @Dispatch('TYPING', { broadcast: true })
  typing(): Observable<{ room: string; userId: string }> {
    return of({ room: 'r', userId: 'u' });
  }

  @Dispatch('PING', { broadcast: true, data: () => undefined })
  ping(): void {}

  @Dispatch('NEW_MESSAGE', { recipients: (msg) => [msg.room], idempotencyKey: (msg) => `${msg.room}:${msg.text}` })
  postOnce(): { room: string; text: string } {
    return { room: 'r', text: 'hi' };
  }

  // @ts-expect-error an idempotency key is a string
  @Dispatch('NEW_MESSAGE', { recipients: (msg) => [msg.room], idempotencyKey: () => 42 })
  numericKey(): { room: string; text: string } {
    return { room: 'r', text: 'hi' };
  }

  // @ts-expect-error data returns the wrong payload
  @Dispatch('NEW_MESSAGE', { broadcast: true, data: (msg: ChatMessage) => ({ room: msg.room, text: 1 }) })
  wrongData(): ChatMessage {
    return load();
  }

  // @ts-expect-error unknown event type
  @Dispatch('NEW_MESAGE', { broadcast: true })
  wrongType(): { room: string; text: string } {
    return { room: 'r', text: 'hi' };
  }

  // @ts-expect-error without data, the method's result is the payload and must match
  @Dispatch('NEW_MESSAGE', { broadcast: true })
  wrongResult(): Promise<{ room: string }> {
    return Promise.resolve({ room: 'r' });
  }

  // @ts-expect-error the selectors' input must be what the method returns
  @Dispatch('NEW_MESSAGE', { recipients: (msg: ChatMessage) => msg.members, data: (msg) => ({ room: msg.room, text: msg.text }) })
  wrongSelectorInput(): Promise<{ other: true }> {
    return Promise.resolve({ other: true });
  }

  // @ts-expect-error recipients must return ids
  @Dispatch('TYPING', { recipients: (msg) => msg.room })
  wrongRecipients(): { room: string; userId: string } {
    return { room: 'r', userId: 'u' };
  }
}

// idempotency keys on messages: a string, and the result says whether it was a duplicate
void untyped
  .dispatch(new Message(0, {}, 'ORDER', { idempotencyKey: 'order-1:shipped' }), ['u'])
  .then((result) => result.duplicate === true);
// @ts-expect-error an idempotency key is a string
void untyped.dispatch(new Message(0, {}, 'ORDER', { idempotencyKey: 1 }), ['u']);
