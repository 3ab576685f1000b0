import type { MesaPortalEventType } from './portal-protocol.js';

/** Whom a frame on the portal channel is for, from whom, and what kind of event it is, read without parsing it. */
export interface PortalFrameAddress {
  /** The event's kind, when the frame starts with it (as Mesa writes it). */
  type?: MesaPortalEventType;
  portalId: string;
  /** The sending client's id (as text); absent when the frame has none (an unauthenticated socket). */
  clientId?: string;
}

const PORTAL_ID_MEMBER = ',"portalId":';
const CLIENT_ID_MEMBER = ',"clientId":';
const KIND_BY_INITIAL: Record<string, MesaPortalEventType | undefined> = {
  m: 'message',
  c: 'connection',
  a: 'authentication',
  d: 'disconnection',
};

/**
 * Reads `portalId` and `clientId` from the end of a frame, in time proportional to their length, not the
 * frame's: a Mesa server publishes each event as `JSON.stringify({...event, portalId})`, so `portalId` is the
 * last member and `clientId`, when the event has one, the one before it (and `type` the first). Sound for any
 * valid JSON but for duplicated keys (Mesa writes none), which the parse at handling time settles: `,"` never
 * occurs inside a JSON string (a quote there is escaped), so a text ending in `,"clientId":"a","portalId":"p"}`
 * has those two as the last members of its outermost object. Returns `undefined` for any other layout (the
 * caller then parses the frame); the frame's validity is still checked when it is parsed.
 */
export function readFrameAddress(raw: string): PortalFrameAddress | undefined {
  const end = raw.length - 1;
  if (raw.charCodeAt(end) !== 0x7d /* } */) return undefined;
  const portalStart = valueStart(raw, end, PORTAL_ID_MEMBER);
  if (portalStart < 0) return undefined;
  const portalId = readValue(raw, portalStart, end);
  if (typeof portalId !== 'string') return undefined;
  const address: PortalFrameAddress = { portalId };
  const type = kindOf(raw);
  if (type !== undefined) address.type = type;
  const clientStart = valueStart(raw, portalStart - PORTAL_ID_MEMBER.length, CLIENT_ID_MEMBER);
  const clientId = clientStart < 0 ? undefined : readValue(raw, clientStart, portalStart - PORTAL_ID_MEMBER.length);
  if (clientId !== undefined) address.clientId = String(clientId);
  return address;
}

/** The kind of event a frame starts with (`{"type":"message",`), if it does. */
function kindOf(raw: string): MesaPortalEventType | undefined {
  if (!raw.startsWith('{"type":"')) return undefined;
  const kind = KIND_BY_INITIAL[raw[9]!];
  if (kind === undefined || !raw.startsWith(kind, 9) || raw.charCodeAt(9 + kind.length) !== 0x22) return undefined;
  const next = raw[10 + kind.length];
  return next === ',' || next === '}' ? kind : undefined;
}

/** Where the JSON string or number ending at `end` (exclusive) starts, if the text before it is `member`; else -1. */
function valueStart(raw: string, end: number, member: string): number {
  const start = raw.charCodeAt(end - 1) === 0x22 /* " */ ? stringStart(raw, end - 1) : numberStart(raw, end);
  if (start === undefined || start === end || start < member.length || !raw.startsWith(member, start - member.length)) return -1;
  return start;
}

/** The string or number written from `start` to `end`; undefined if it is neither. */
function readValue(raw: string, start: number, end: number): string | number | undefined {
  const backslash = raw.indexOf('\\', start);
  if (raw.charCodeAt(start) === 0x22 && (backslash < 0 || backslash >= end)) return raw.slice(start + 1, end - 1);
  try {
    const value = JSON.parse(raw.slice(start, end)) as unknown;
    return typeof value === 'string' || typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the opening quote of the JSON string whose closing quote is at `close`: the first unescaped quote before it. */
function stringStart(raw: string, close: number): number | undefined {
  for (let i = close - 1; i >= 0; i--) {
    if (raw.charCodeAt(i) !== 0x22) continue;
    let backslashes = 0;
    while (i - 1 - backslashes >= 0 && raw.charCodeAt(i - 1 - backslashes) === 0x5c /* \ */) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return undefined;
}

/** Index where the JSON number ending at `end` starts (`end` itself when there is none). */
function numberStart(raw: string, end: number): number {
  let i = end;
  while (i > 0 && isNumberChar(raw.charCodeAt(i - 1))) i--;
  return i;
}

function isNumberChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2b || code === 0x2e || code === 0x45 || code === 0x65;
}
