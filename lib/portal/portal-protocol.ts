/** The kinds of client event a Mesa server publishes to its portal. */
export type MesaPortalEventType = 'connection' | 'authentication' | 'message' | 'disconnection';

/** A frame a client sent over its Mesa WebSocket, as a portal handler receives it. */
export interface MesaClientMessage {
  /** Id of the authenticated user who sent it; absent when the socket had not authenticated. */
  clientId?: string;
  /** Mesa opcode the client used (0 for an application event). */
  op: number;
  /** The frame's data (`d`), any JSON value; `undefined` when the client sent none. */
  data: unknown;
  /** The frame's type (`t`), e.g. `'TYPING'`; absent when the client sent none. */
  type?: string;
  /** Sequence number (`s`), when the frame carried one. */
  sequence?: number;
}

/** One client event read from the portal channel, validated. */
export type MesaPortalEvent =
  | { type: 'connection'; portalId: string }
  | { type: 'authentication'; portalId: string; clientId: string }
  | { type: 'disconnection'; portalId: string; clientId?: string }
  | { type: 'message'; portalId: string; clientId?: string; message: MesaClientMessage };

/** Result of {@link parsePortalFrame}: the event, or why the frame was rejected (without its content). */
export type ParsedPortalFrame = { ok: true; event: MesaPortalEvent } | { ok: false; reason: string };

/** The announcement Mesa servers read on the pool channel. */
export function readyAnnouncement(id: string, ready: boolean): string {
  return JSON.stringify({ id, ready });
}

/**
 * Parses and validates one frame from the portal channel. Never throws: anything that is not a
 * well-formed Mesa portal event (not JSON, wrong shape, over `maxBytes`) comes back as a reason.
 */
export function parsePortalFrame(raw: string, maxBytes: number): ParsedPortalFrame {
  if (raw.length > maxBytes || Buffer.byteLength(raw) > maxBytes) return reject(`frame larger than maxFrameBytes (${maxBytes})`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return reject('not JSON');
  }
  if (!isRecord(json)) return reject('not a JSON object');
  const { type, portalId } = json;
  if (typeof portalId !== 'string' || portalId.length === 0) return reject('portalId is not a non-empty string');
  const clientId = readClientId(json.clientId);
  if (clientId === INVALID) return reject('clientId is not a string');
  switch (type) {
    case 'connection':
      return { ok: true, event: { type, portalId } };
    case 'authentication':
      if (clientId === undefined) return reject('authentication without clientId');
      return { ok: true, event: { type, portalId, clientId } };
    case 'disconnection':
      return { ok: true, event: withClient({ type, portalId }, clientId) };
    case 'message': {
      const message = readMessage(json.message, clientId);
      if (typeof message === 'string') return reject(message);
      return { ok: true, event: withClient({ type, portalId, message }, clientId) };
    }
    default:
      return reject('type is not connection, authentication, message or disconnection');
  }
}

const INVALID = Symbol('invalid');

function readClientId(value: unknown): string | undefined | typeof INVALID {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return INVALID;
}

function readMessage(value: unknown, clientId: string | undefined): MesaClientMessage | string {
  if (!isRecord(value)) return 'message is not an object';
  const { op, d, t, s } = value;
  if (typeof op !== 'number' || !Number.isFinite(op)) return 'message.op is not a number';
  if (t !== undefined && t !== null && typeof t !== 'string') return 'message.t is not a string';
  if (s !== undefined && s !== null && (typeof s !== 'number' || !Number.isFinite(s))) return 'message.s is not a number';
  const message: MesaClientMessage = { op, data: d };
  if (clientId !== undefined) message.clientId = clientId;
  if (typeof t === 'string') message.type = t;
  if (typeof s === 'number') message.sequence = s;
  return message;
}

function withClient<T extends object>(event: T, clientId: string | undefined): T & { clientId?: string } {
  return clientId === undefined ? event : { ...event, clientId };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reject(reason: string): ParsedPortalFrame {
  return { ok: false, reason };
}
