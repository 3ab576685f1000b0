import type { MesaPortalEvent } from './portal-protocol.js';

/** The fairness key of the events without a client id (unauthenticated sockets, `connection` events). */
export const NO_CLIENT = '';

/** The arguments a handler of `event` receives. */
export function argumentsOf(event: MesaPortalEvent): unknown[] {
  switch (event.type) {
    case 'message':
      return [event.message];
    case 'connection':
      return [];
    default:
      return [event.clientId];
  }
}

/** `message "TYPING" from client "alice"`: the client id is quoted and cut, as it comes from outside. */
export function describeEvent(event: MesaPortalEvent): string {
  const what = event.type === 'message' ? `message${event.message.type === undefined ? '' : ` ${quote(event.message.type)}`}` : event.type;
  if (event.type === 'connection') return what;
  return `${what} from ${describeClient(event.clientId ?? NO_CLIENT)}`;
}

/** `client "alice"`, or `an unauthenticated socket` for {@link NO_CLIENT}. */
export function describeClient(clientId: string): string {
  return clientId === NO_CLIENT ? 'an unauthenticated socket' : `client ${quote(clientId)}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
