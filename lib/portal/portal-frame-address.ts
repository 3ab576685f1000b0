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
const TYPE_HEAD = /^\{"type":"(connection|authentication|message|disconnection)"[,}]/;

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
  if (raw.charCodeAt(raw.length - 1) !== 0x7d /* } */) return undefined;
  const portal = memberBefore(raw, raw.length - 1, PORTAL_ID_MEMBER);
  if (typeof portal?.value !== 'string') return undefined;
  const address: PortalFrameAddress = { portalId: portal.value };
  const type = TYPE_HEAD.exec(raw.slice(0, 32))?.[1] as MesaPortalEventType | undefined;
  if (type !== undefined) address.type = type;
  const client = memberBefore(raw, portal.start, CLIENT_ID_MEMBER);
  if (client !== undefined) address.clientId = String(client.value);
  return address;
}

/** The string or number that ends at `end` (exclusive), if the text before it is `member`; and where `member` starts. */
function memberBefore(raw: string, end: number, member: string): { value: string | number; start: number } | undefined {
  const valueStart = raw.charCodeAt(end - 1) === 0x22 /* " */ ? stringStart(raw, end - 1) : numberStart(raw, end);
  if (valueStart === undefined || valueStart === end) return undefined;
  const start = valueStart - member.length;
  if (start < 0 || !raw.startsWith(member, start)) return undefined;
  try {
    const value = JSON.parse(raw.slice(valueStart, end)) as unknown;
    return typeof value === 'string' || typeof value === 'number' ? { value, start } : undefined;
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
  while (i > 0 && /[-+.eE0-9]/.test(raw[i - 1]!)) i--;
  return i;
}
