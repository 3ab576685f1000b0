import type { MesaPortalHandler } from './portal-explorer.js';
import type { MesaPortalEvent, MesaPortalEventType } from './portal-protocol.js';

/** The portal handlers indexed by event kind and message type, for a constant-time lookup per event. */
export class PortalHandlerSet {
  private readonly byEvent = new Map<MesaPortalEventType, MesaPortalHandler[]>();
  private readonly byMessageType = new Map<string, MesaPortalHandler[]>();
  private readonly everyMessage: MesaPortalHandler[] = [];

  constructor(handlers: readonly MesaPortalHandler[]) {
    for (const handler of handlers) {
      if (handler.event !== 'message') push(this.byEvent, handler.event, handler);
      else if (handler.messageType === undefined) this.everyMessage.push(handler);
      else push(this.byMessageType, handler.messageType, handler);
    }
  }

  /** How many handlers there are. */
  get size(): number {
    let size = this.everyMessage.length;
    for (const list of [...this.byEvent.values(), ...this.byMessageType.values()]) size += list.length;
    return size;
  }

  /** Whether some handler takes events of this kind (of some message type, for messages). */
  handles(event: MesaPortalEventType): boolean {
    if (event !== 'message') return this.byEvent.has(event);
    return this.everyMessage.length > 0 || this.byMessageType.size > 0;
  }

  /** The handlers that an event runs (empty when none). */
  for(event: MesaPortalEvent): readonly MesaPortalHandler[] {
    if (event.type !== 'message') return this.byEvent.get(event.type) ?? NONE;
    const typed = event.message.type === undefined ? undefined : this.byMessageType.get(event.message.type);
    if (!typed) return this.everyMessage;
    return this.everyMessage.length === 0 ? typed : [...this.everyMessage, ...typed];
  }
}

const NONE: readonly MesaPortalHandler[] = [];

function push<K>(map: Map<K, MesaPortalHandler[]>, key: K, handler: MesaPortalHandler): void {
  const list = map.get(key);
  if (list) list.push(handler);
  else map.set(key, [handler]);
}
