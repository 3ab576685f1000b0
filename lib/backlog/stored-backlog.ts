/** Caps on one user's stored messages (`maxStoredPerUser`, `maxStoredBytesPerUser`), as the scripts read them (`0`: none). */
export interface BacklogCaps {
  maxCount: number;
  maxBytes: number;
}

/** Bytes the caps keep free for the state written on the last message (`,"m":…,"l":…,"n":…`). */
export const TAIL_RESERVE = 48;
const TAIL = /,"m":(\d+)(?:,"l":(\d+))?,"n":(\d+)\}\]$/;
const EXPIRY = /^\{"x":(\d+),/;
const STALE_COUNT = /,"n":\d+\}$/;

/** One message this version stored: its JSON text and its weight in the byte cap (UTF-8 bytes, line feed, comma). */
interface Element {
  text: string;
  weight: number;
}

/**
 * One user's stored backlog under the rule the batch script applies (`backlog-text.lua.ts`, which documents the
 * format), for the WATCH/MULTI fallback: a text Mesa could not read is refused; a text this version did not write is
 * checked, cut to the caps from its end and put in this version's format; every append first removes the expired
 * messages, then the oldest go while over a cap. Same decisions, counts and text as the script (the byte cap counts
 * UTF-8 bytes, as Redis does). The messages another writer left in front are kept as one run, scanned only as far
 * as the caps drop them.
 */
export class StoredBacklog {
  /** Expired messages removed and not reported yet. */
  expired = 0;
  /** Messages another writer left (no line feed before them), in front, as one run of text, and how many. */
  private foreign = '';
  private foreignCount = 0;
  private ours: Element[] = [];
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

  /** Removes every expired message (at `now`, ms), counted in {@link expired}. */
  removeExpired(now: number): void {
    const { m } = this;
    if (m === undefined || m === 0 || m > now) return;
    const ordered = this.l !== undefined;
    let earliest = 0;
    let latest: number | undefined = 0;
    let cut = false;
    const kept: Element[] = [];
    for (const element of this.ours) {
      const x = cut ? undefined : expiryOf(element.text);
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
    this.ours = kept;
    this.m = earliest;
    this.l = ordered && cut ? this.l : latest;
  }

  /** Appends a message's JSON, expiring at `expires` (ms; none when undefined), then drops over the caps: how many. */
  append(json: string, expires?: number): number {
    const text = storedJson(json, expires);
    const element = { text, weight: storedWeight(text) };
    this.ours.push(element);
    this.bytes += element.weight;
    this.count++;
    if (expires !== undefined && this.m !== undefined) {
      if (this.m === 0 || expires < this.m) this.m = expires;
      this.l = this.l !== undefined && expires >= this.l ? expires : undefined;
    }
    let dropped = this.pending;
    this.pending = 0;
    const { maxCount, maxBytes } = this.caps;
    while (this.count > 0 && ((maxCount > 0 && this.count > maxCount) || (maxBytes > 0 && this.bytes + TAIL_RESERVE > maxBytes))) {
      this.dropFirst();
      dropped++;
    }
    return dropped;
  }

  /** The text to store (undefined: nothing left, delete it), as the script writes it. */
  text(): string | undefined {
    if (this.count === 0) return undefined;
    const tail =
      this.m === undefined ? `,"n":${this.count}` : `,"m":${this.m}${this.l === undefined ? '' : `,"l":${this.l}`},"n":${this.count}`;
    const parts = this.foreignCount > 0 ? [this.foreign] : [];
    for (const { text } of this.ours) parts.push(`\n${text}`);
    const last = parts.length - 1;
    if (parts[last].endsWith('}')) parts[last] = `${parts[last].slice(0, -1)}${tail}}`;
    return `[${parts.join(',')}]`;
  }

  private dropFirst(): void {
    if (this.foreignCount > 0) {
      const end = this.foreignCount === 1 ? this.foreign.length : firstElementEnd(this.foreign);
      this.bytes -= Buffer.byteLength(this.foreign.slice(0, end)) + 1;
      this.foreign = this.foreign.slice(end + 1).trimStart();
      this.foreignCount--;
    } else {
      this.bytes -= this.ours.shift()!.weight;
    }
    this.count--;
  }

  private trusted(text: string, tail: RegExpExecArray): StoredBacklog {
    this.m = Number(tail[1]);
    this.l = tail[2] === undefined ? undefined : Number(tail[2]);
    this.count = Number(tail[3]);
    this.bytes = Buffer.byteLength(text) - Buffer.byteLength(tail[0]) + 2;
    const body = `${text.slice(1, text.length - tail[0].length)}}`;
    const firstLine = body.indexOf('\n');
    if (firstLine !== 0) this.foreign = (firstLine < 0 ? body : body.slice(0, firstLine - 1)).trim();
    if (firstLine >= 0) for (const line of body.slice(firstLine + 1).split(',\n')) this.push(line);
    this.foreignCount = this.count - this.ours.length;
    return this;
  }

  private adopt(text: string): StoredBacklog | undefined {
    let elements = splitElements(text);
    if (elements === undefined) return undefined;
    const { maxBytes } = this.caps;
    const maxCount = this.caps.maxCount > 0 ? this.caps.maxCount : Infinity;
    if (maxCount < Infinity || (maxBytes > 0 && Buffer.byteLength(text) > maxBytes)) {
      [elements, this.pending] = newest(elements, maxBytes, maxCount, text);
    }
    const parsed = mesaReadable(`[${elements.join(',')}]`);
    if (parsed === undefined) return undefined;
    elements = elements.map((element) => element.replaceAll('\n', ''));
    const body = `[${elements.join(',')}]`;
    this.count = elements.length;
    const objects = parsed.length === elements.length && parsed.every((value) => typeof value === 'object' && !Array.isArray(value));
    if (!body.includes('{"x":') || !objects) {
      this.m = this.l = body.includes('{"x":') ? undefined : 0;
      this.foreign = elements.join(',');
      this.foreignCount = elements.length;
      this.bytes = elements.length === 0 ? 1 : Buffer.byteLength(body);
      return this;
    }
    elements[elements.length - 1] = elements[elements.length - 1].replace(STALE_COUNT, '}');
    this.m = this.l = 0;
    for (const element of elements) {
      const x = expiryOf(element);
      if (x === undefined) continue;
      if (this.m === 0 || x < this.m) this.m = x;
      this.l = this.l !== undefined && x >= this.l ? x : undefined;
    }
    for (const element of elements) this.push(element);
    this.bytes = Buffer.byteLength(`[\n${elements.join(',\n')}]`);
    return this;
  }

  private push(text: string): void {
    this.ours.push({ text, weight: storedWeight(text) });
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

const STRUCTURE = /[[\]{}",]/g;

/**
 * Where the first top-level element of `run` (elements joined by commas) ends: the index of the comma after it, or
 * `run.length`; -1 when a string is not closed. Jumps from one structural character to the next.
 */
function firstElementEnd(run: string, from = 0): number {
  let depth = 0;
  STRUCTURE.lastIndex = from;
  for (let match = STRUCTURE.exec(run); match !== null; match = STRUCTURE.exec(run)) {
    const c = match[0];
    if (c === '"') {
      let at = match.index + 1;
      for (;;) {
        at = run.indexOf('"', at);
        if (at < 0) return -1;
        let backslashes = 0;
        while (run.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
        at++;
      }
      STRUCTURE.lastIndex = at + 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (depth === 0) return match.index;
  }
  return run.length;
}

/** The top-level elements of a bracketed JSON array text, trimmed, found by structure only; undefined when unbalanced. */
function splitElements(text: string): string[] | undefined {
  if (!text.startsWith('[') || !text.endsWith(']')) return undefined;
  const run = text.slice(1, -1);
  if (run.trim() === '') return [];
  const elements: string[] = [];
  let start = 0;
  for (;;) {
    const end = firstElementEnd(run, start);
    if (end < 0) return undefined;
    elements.push(run.slice(start, end).trim());
    if (end >= run.length) return elements;
    start = end + 1;
  }
}
