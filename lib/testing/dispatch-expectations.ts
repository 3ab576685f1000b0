import { isDeepStrictEqual } from 'node:util';
import type { ExpectedDispatch, RecordedDispatch } from './recorded-dispatch.interface.js';

/**
 * Whether `record` satisfies every field of `expected`. Ids compare as sets; data compares after a
 * JSON round trip (what clients receive), or through `expected.data` when it is a function.
 */
export function matchesDispatch(record: RecordedDispatch, expected: ExpectedDispatch): boolean {
  if (expected.to !== undefined && !sameIds(record.recipients, expected.to)) return false;
  if (expected.storedFor !== undefined && !sameIds(record.storedFor, expected.storedFor)) return false;
  if ('data' in expected) {
    const wanted = expected.data;
    if (typeof wanted === 'function') return Boolean((wanted as (data: unknown) => unknown)(record.message.d));
    return isDeepStrictEqual(record.message.d, asClientsReceive(wanted));
  }
  return true;
}

/** The readable failure of `expectDispatched(type, expected)`: what was wanted and what was recorded. */
export function describeMissingDispatch(type: string, expected: ExpectedDispatch, records: readonly RecordedDispatch[]): string {
  const wanted = [`a dispatch of type '${type}'`];
  if (expected.to !== undefined) wanted.push(`to ${formatIds(expected.to)}`);
  if (expected.storedFor !== undefined) wanted.push(`stored for ${formatIds(expected.storedFor)}`);
  if ('data' in expected) {
    wanted.push(typeof expected.data === 'function' ? 'with data matching the predicate' : `with data ${preview(expected.data)}`);
  }
  const sameType = records.filter((record) => record.type === type);
  let seen: string;
  if (records.length === 0) seen = 'nothing was dispatched.';
  else if (sameType.length === 0) {
    seen = `no '${type}' was dispatched; recorded types: ${[...new Set(records.map((r) => String(r.type)))].join(', ')}.`;
  } else {
    seen = `recorded '${type}' dispatches:\n${sameType.map((record, index) => `  ${index + 1}. ${describeDispatch(record)}`).join('\n')}`;
  }
  return `Expected ${wanted.join(' ')}, but ${seen}`;
}

/** One line describing a recorded dispatch, for failure messages. */
export function describeDispatch(record: RecordedDispatch): string {
  const stored = record.storedFor.length > 0 ? ` stored for ${formatIds(record.storedFor)}` : '';
  return `'${String(record.type)}' to ${formatIds(record.recipients)}${stored} data ${preview(record.message.d)}`;
}

function sameIds(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === new Set(expected).size && expected.every((id) => actual.includes(id));
}

function asClientsReceive(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function formatIds(ids: readonly string[]): string {
  return `[${ids.join(', ')}]`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
