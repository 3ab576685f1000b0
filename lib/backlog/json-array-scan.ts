const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Where the elements of a JSON array text are, found without parsing them. */
export interface JsonArrayScan {
  /** Elements found: all of them, or `limit` when the array has more. */
  count: number;
  /** Byte offset of the array's `[`. */
  start: number;
  /** Byte offset just after the last counted element (its `,` or the closing `]`). */
  end: number;
  /** Whether elements remain after `end` (the scan stopped at `limit`). */
  more: boolean;
}

/**
 * Counts the elements of the JSON array in `bytes` (UTF-8) by its top-level commas, skipping strings
 * and nesting, without building any value: how a stored backlog of thousands of messages is counted.
 * Stops after `limit` elements (then `end` is where the prefix holding them ends).
 *
 * It checks the structure (a bracketed array, balanced nesting, closed strings), not each element's
 * syntax. Returns `undefined` for text that is not a JSON array.
 */
export function scanJsonArray(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): JsonArrayScan | undefined {
  const length = bytes.length;
  const start = skipSpace(bytes, 0);
  if (bytes[start] !== OPEN_ARRAY) return undefined;
  const first = skipSpace(bytes, start + 1);
  if (bytes[first] === CLOSE_ARRAY) return onlySpaceAfter(bytes, first + 1) ? { count: 0, start, end: first, more: false } : undefined;
  let depth = 1;
  let count = 1;
  for (let at = first; at < length; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) {
      at = closingQuote(bytes, at);
      if (at < 0) return undefined;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (--depth === 0) return byte === CLOSE_ARRAY && onlySpaceAfter(bytes, at + 1) ? { count, start, end: at, more: false } : undefined;
    } else if (byte === COMMA && depth === 1) {
      if (count >= limit) return { count, start, end: at, more: true };
      count++;
    }
  }
  return undefined;
}

/** Offset of the quote closing the string opened at `open`, or -1 when it is never closed. */
function closingQuote(bytes: Uint8Array, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function skipSpace(bytes: Uint8Array, from: number): number {
  let at = from;
  while (at < bytes.length && isSpace(bytes[at])) at++;
  return at;
}

function onlySpaceAfter(bytes: Uint8Array, from: number): boolean {
  return skipSpace(bytes, from) === bytes.length;
}

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB;
}
