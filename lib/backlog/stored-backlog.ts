import type { BacklogCaps } from '../publishing/batch-protocol.js';

/** Bytes the caps keep free for the state written on the last message (`,"m":…,"l":…,"n":…`). */
export const TAIL_RESERVE = 48;
const TAIL = /,"m":(\d+)(?:,"l":(\d+))?,"n":(\d+)\}\]$/;
const EXPIRY = /^\{"x":(\d+),/;
const STALE_COUNT = /,"n":\d+\}$/;

/** One stored message: its JSON text, whether this version wrote it (on a line of its own), its expiry. */
interface Element {
  text: string;
  ours: boolean;
  /** Its weight in the byte cap: UTF-8 bytes with its line feed and one comma. */
  weight: number;
}

/**
 * One user's stored backlog under the rule the batch script applies (`backlog-text.lua.ts`, which documents the
 * format), for the WATCH/MULTI fallback and the testing double: a text Mesa could not read is refused; a text this
 * version did not write is checked, cut to the caps from its end and put in this version's format; every append
 * first removes the expired messages, then the oldest go while over a cap. Same decisions, counts and text as the
 * script (the byte cap counts UTF-8 bytes, as Redis does).
 */
export class StoredBacklog {
  /** Expired messages removed and not reported yet. */
  expired = 0;
  private elements: Element[] = [];
  private count = 0;
  /** The text's bytes without the state on its last message (an empty backlog counts 1: each message adds a comma). */
  private bytes = 1;
  /** Earliest expiry (a lower bound; 0: none expires; undefined: unknown) and latest (undefined: out of order). */
  private m: number | undefined = 0;
  private l: number | undefined = 0;
  /** Dropped by the caps when the text was adopted, reported with the next append. */
  private pending = 0;

  private constructor(private readonly caps: BacklogCaps) {}

  /** The backlog stored as `text` (null or empty: none); undefined when Mesa could not read it. */
  static load(text: string | null | undefined, caps: BacklogCaps): StoredBacklog | undefined {
    const backlog = new StoredBacklog(caps);
    if (!text) return backlog;
    const tail = TAIL.exec(text.slice(-73));
    return tail && text.startsWith('[') ? backlog.trusted(text, tail) : backlog.adopt(text.trim());
  }

  /** The messages, oldest first, as Mesa redelivers them (parsed; extra fields left in). */
  messages(): unknown[] {
    return this.elements.map((element) => JSON.parse(element.text));
  }

  /** Removes every expired message (at `now`, ms), counted in {@link expired}. */
  removeExpired(now: number): void {
    const { m } = this;
    if (m === undefined || m === 0 || m > now) return;
    const ordered = this.l !== undefined;
    let earliest = 0;
    let latest: number | undefined = 0;
    let cut = false;
    const kept: Element[] = [];
    for (const element of this.elements) {
      const x = element.ours && !cut ? expiryOf(element.text) : undefined;
      if (x !== undefined && x <= now) {
        this.bytes -= element.weight;
        this.count--;
        this.expired++;
        continue;
      }
      kept.push(element);
      if (x === undefined) continue;
      if (earliest === 0 || x < earliest) earliest = x;
      latest = latest !== undefined && x >= latest ? x : undefined;
      if (ordered) cut = true;
    }
    this.elements = kept;
    this.m = earliest;
    this.l = ordered && cut ? this.l : latest;
  }

  /** Appends a message's JSON, expiring at `expires` (ms; none when undefined), then drops over the caps: how many. */
  append(json: string, expires?: number): number {
    const text = storedJson(json, expires);
    const element = { text, ours: true, weight: storedWeight(text) };
    this.elements.push(element);
    this.bytes += element.weight;
    this.count++;
    if (expires !== undefined && this.m !== undefined) {
      if (this.m === 0 || expires < this.m) this.m = expires;
      this.l = this.l !== undefined && expires >= this.l ? expires : undefined;
    }
    let dropped = this.pending;
    this.pending = 0;
    const { maxCount, maxBytes } = this.caps;
    while (
      this.elements.length > 0 &&
      ((maxCount > 0 && this.count > maxCount) || (maxBytes > 0 && this.bytes + TAIL_RESERVE > maxBytes))
    ) {
      this.bytes -= this.elements.shift()!.weight;
      this.count--;
      dropped++;
    }
    return dropped;
  }

  /** The text to store (undefined: nothing left, delete it), as the script writes it. */
  text(): string | undefined {
    if (this.elements.length === 0) return undefined;
    const tail =
      this.m === undefined ? `,"n":${this.count}` : `,"m":${this.m}${this.l === undefined ? '' : `,"l":${this.l}`},"n":${this.count}`;
    const parts = this.elements.map(({ text, ours }) => (ours ? `\n${text}` : text));
    const last = parts.length - 1;
    if (parts[last].endsWith('}')) parts[last] = `${parts[last].slice(0, -1)}${tail}}`;
    return `[${parts.join(',')}]`;
  }

  private trusted(text: string, tail: RegExpExecArray): StoredBacklog {
    this.m = Number(tail[1]);
    this.l = tail[2] === undefined ? undefined : Number(tail[2]);
    const tailStart = text.length - tail[0].length;
    const body = `${text.slice(0, tailStart)}}]`;
    this.bytes = Buffer.byteLength(text) - Buffer.byteLength(tail[0]) + 2;
    const firstLine = body.indexOf('\n');
    const foreign = firstLine < 0 ? body.slice(1, -1) : body.slice(1, Math.max(1, firstLine - 1));
    for (const element of foreign.trim() ? splitElements(`[${foreign}]`)! : []) this.push(element, false);
    if (firstLine >= 0) for (const line of body.slice(firstLine + 1, -1).split(',\n')) this.push(line, true);
    this.count = Number(tail[3]);
    return this;
  }

  private adopt(text: string): StoredBacklog | undefined {
    let elements = splitElements(text);
    if (elements === undefined) return undefined;
    const { maxBytes } = this.caps;
    const maxCount = this.caps.maxCount > 0 ? this.caps.maxCount : Infinity;
    if (maxBytes > 0 && Buffer.byteLength(text) > maxBytes) [elements, this.pending] = newest(elements, maxBytes, maxCount, text);
    const parsed = mesaReadable(`[${elements.join(',')}]`);
    if (parsed === undefined) return undefined;
    if (elements.length > maxCount) {
      const [kept, cut] = newest(elements, maxBytes, maxCount, `[${elements.join(',')}]`);
      elements = kept;
      this.pending += cut;
    }
    elements = elements.map((element) => element.replaceAll('\n', ''));
    const body = `[${elements.join(',')}]`;
    const objects = parsed.length === elements.length && parsed.every((value) => typeof value === 'object' && !Array.isArray(value));
    if (!body.includes('{"x":')) {
      this.m = 0;
      this.l = 0;
    } else if (!objects) {
      this.m = this.l = undefined;
    } else {
      elements[elements.length - 1] = elements[elements.length - 1].replace(STALE_COUNT, '}');
      this.m = this.l = 0;
      for (const element of elements) {
        const x = expiryOf(element);
        if (x === undefined) continue;
        if (this.m === 0 || x < this.m) this.m = x;
        this.l = this.l !== undefined && x >= this.l ? x : undefined;
      }
      for (const element of elements) this.push(element, true);
      this.count = elements.length;
      this.bytes = Buffer.byteLength(`[\n${elements.join(',\n')}]`);
      return this;
    }
    for (const element of elements) this.push(element, false);
    this.count = elements.length;
    this.bytes = elements.length === 0 ? 1 : Buffer.byteLength(body);
    return this;
  }

  private push(text: string, ours: boolean): void {
    this.elements.push({ text, ours, weight: Buffer.byteLength(text) + (ours ? 2 : 1) });
  }
}

/** A message's JSON as stored: with its expiry first (`{"x":<ms>,…`) when it has one. */
export function storedJson(json: string, expires?: number): string {
  return expires === undefined ? json : `{"x":${expires},${json.slice(1)}`;
}

/** What a stored message of this version weighs in the byte cap: its UTF-8 bytes, its line feed and a comma. */
export function storedWeight(text: string): number {
  return Buffer.byteLength(text) + 2;
}

/** The expiry a stored message of this version starts with (`{"x":<ms>,`), if any. */
function expiryOf(text: string): number | undefined {
  const match = EXPIRY.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** What Mesa's server reads from a stored text: `JSON.parse`, then `Message(op, d, t)` of each element (null throws). */
export function mesaReadable(text: string): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(parsed) && !parsed.includes(null) ? parsed : undefined;
}

/**
 * The newest elements that fit, as the script's `cut_newest` keeps them: at most `maxCount`, and only those whose
 * separating comma lies within the last `maxBytes - TAIL_RESERVE` bytes of the text (`maxBytes` 0: no byte bound).
 * Returns them and how many were cut off.
 */
function newest(elements: string[], maxBytes: number, maxCount: number, text: string): [string[], number] {
  let kept = 0;
  if (maxBytes > 0) {
    const low = Buffer.byteLength(text) - maxBytes + TAIL_RESERVE;
    let commaAt = Buffer.byteLength(text); // 1-based position of the ']'
    while (kept < elements.length && kept < maxCount) {
      commaAt -= Buffer.byteLength(elements[elements.length - 1 - kept]) + 1;
      if (commaAt < low) break;
      kept++;
    }
    if (kept === elements.length - 1 && low <= 2 && kept < maxCount) kept++;
  } else {
    kept = Math.min(elements.length, maxCount);
  }
  return [elements.slice(elements.length - kept), elements.length - kept];
}

/** The top-level elements of a bracketed JSON array text, trimmed, found by structure only; undefined when unbalanced. */
function splitElements(text: string): string[] | undefined {
  if (!text.startsWith('[') || !text.endsWith(']')) return undefined;
  const elements: string[] = [];
  let depth = 0;
  let start = 1;
  for (let at = 1; at < text.length - 1; at++) {
    const c = text.charCodeAt(at);
    if (c === 0x22) {
      at++;
      while (at < text.length && text.charCodeAt(at) !== 0x22) at += text.charCodeAt(at) === 0x5c ? 2 : 1;
      if (at >= text.length) return undefined;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 0) {
      elements.push(text.slice(start, at).trim());
      start = at + 1;
    }
    if (depth < 0) return undefined;
  }
  if (depth !== 0) return undefined;
  const last = text.slice(start, -1).trim();
  if (last || elements.length > 0) elements.push(last);
  return elements;
}
