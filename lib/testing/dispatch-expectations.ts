import { isDeepStrictEqual } from 'node:util';
import { MesaValidationError } from '../errors/mesa.errors.js';
import { describeValue } from '../errors/describe-value.js';
import { checkUserIds } from '../validation/user-ids.validator.js';
import type { ExpectedDispatch, RecordedDispatch } from './recorded-dispatch.interface.js';

/** Every key `expectDispatched` understands, in the order failure messages list them. */
const EXPECTED_KEYS = ['type', 'to', 'excluding', 'data', 'message', 'publishedTo', 'storedFor'] as const;
const ID_KEYS = ['to', 'excluding', 'publishedTo', 'storedFor'] as const;

/** What the dispatcher simulates, for the hints of a failure message. */
export interface SimulatedPresence {
  syncEnabled: boolean;
  online: readonly string[];
}

/**
 * Checks an expectation before any record is compared: an object, with known keys only (a misspelt key would
 * otherwise match everything), id lists that are lists of ids, a `message` that is an object or a function,
 * `data` that JSON can carry. `call` names the call in errors.
 * @throws MesaValidationError naming the key and the fix.
 */
export function checkExpectedDispatch(expected: unknown, call: string): ExpectedDispatch {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    throw new MesaValidationError(`${call}: expected must be an object such as { to: ['42'] }; got ${describeValue(expected)}.`);
  }
  const given = expected as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if ((EXPECTED_KEYS as readonly string[]).includes(key)) continue;
    const near = EXPECTED_KEYS.find((known) => known.toLowerCase() === key.toLowerCase());
    const hint = near ? ` (did you mean '${near}'?)` : '';
    throw new MesaValidationError(`${call}: unknown key '${key}'${hint}. Known keys: ${EXPECTED_KEYS.join(', ')}.`);
  }
  for (const key of ID_KEYS) if (key in given) checkUserIds(given[key], `expected.${key}`);
  if ('type' in given && typeof given.type !== 'string') {
    throw new MesaValidationError(`${call}: expected.type must be a message type string; got ${describeValue(given.type)}.`);
  }
  const message = given.message;
  if ('message' in given && typeof message !== 'function' && (typeof message !== 'object' || message === null || Array.isArray(message))) {
    throw new MesaValidationError(
      `${call}: expected.message must be the wire message { op, d, t[, o] } or a predicate on it; got ${describeValue(message)}.`,
    );
  }
  if ('data' in given && typeof given.data !== 'function') asClientsReceive(given.data, 'expected.data', call);
  if ('message' in given && typeof message !== 'function') asClientsReceive(message, 'expected.message', call);
  return given as ExpectedDispatch;
}

/** The keys of `expected` that `record` does not satisfy, each with a short reason where one helps; empty for a match. */
export function dispatchDifferences(record: RecordedDispatch, expected: ExpectedDispatch): string[] {
  const differences: string[] = [];
  if (expected.type !== undefined && record.type !== expected.type) differences.push('type');
  if (expected.to !== undefined && !sameIds(record.recipients, expected.to)) differences.push('to');
  if (expected.excluding !== undefined) {
    if (record.excluding === undefined) {
      differences.push(
        'excluding (only broadcast(message, { excluding }) records it; for dispatch(message, recipients, excluding) assert `to`)',
      );
    } else if (!sameIds(record.excluding, expected.excluding)) differences.push('excluding');
  }
  if ('data' in expected) {
    const reason = valueDifference(record.message.d, expected.data);
    if (reason !== undefined) differences.push(`data${reason}`);
  }
  if ('message' in expected) {
    const reason = valueDifference(record.message, expected.message);
    if (reason !== undefined) differences.push(`message${reason || ` (recorded ${preview(record.message)})`}`);
  }
  if (expected.publishedTo !== undefined && !sameIds(record.publishedTo, expected.publishedTo)) differences.push('publishedTo');
  if (expected.storedFor !== undefined && !sameIds(record.storedFor, expected.storedFor)) differences.push('storedFor');
  return differences;
}

/** The readable failure of `expectDispatched`: what was wanted, each candidate record and where it differs, and hints. */
export function describeMissingDispatch(
  expected: ExpectedDispatch,
  records: readonly RecordedDispatch[],
  simulated: SimulatedPresence,
): string {
  const { type } = expected;
  const wanted = [type === undefined ? 'a dispatch' : `a dispatch of type '${type}'`];
  if (expected.to !== undefined) wanted.push(`to ${formatIds(expected.to)}`);
  if (expected.excluding !== undefined) wanted.push(`excluding ${formatIds(expected.excluding)}`);
  if (expected.publishedTo !== undefined) wanted.push(`published to ${formatIds(expected.publishedTo)}`);
  if (expected.storedFor !== undefined) wanted.push(`stored for ${formatIds(expected.storedFor)}`);
  if ('data' in expected)
    wanted.push(typeof expected.data === 'function' ? 'with data matching the predicate' : `with data ${preview(expected.data)}`);
  if ('message' in expected) {
    wanted.push(
      typeof expected.message === 'function' ? 'with a message matching the predicate' : `with message ${preview(expected.message)}`,
    );
  }
  const candidates = type === undefined ? records : records.filter((record) => record.type === type);
  let seen: string;
  if (records.length === 0) seen = 'nothing was dispatched.';
  else if (candidates.length === 0) {
    seen = `no '${type}' was dispatched; recorded types: ${[...new Set(records.map((r) => String(r.type)))].join(', ')}.`;
  } else {
    const lines = candidates.map(
      (record, index) =>
        `  ${index + 1}. ${describeDispatch(record)}\n     differs in: ${dispatchDifferences(record, expected).join(', ')}`,
    );
    seen = `recorded ${type === undefined ? '' : `'${type}' `}dispatches:\n${lines.join('\n')}`;
  }
  return `Expected ${wanted.join(' ')}, but ${seen}${presenceHint(expected, simulated)}`;
}

/** One line describing a recorded dispatch, for failure messages. */
export function describeDispatch(record: RecordedDispatch): string {
  const parts = [`'${String(record.type)}' to ${formatIds(record.recipients)}`];
  if (!sameIds(record.publishedTo, record.recipients)) parts.push(`published to ${formatIds(record.publishedTo)}`);
  if (record.storedFor.length > 0) parts.push(`stored for ${formatIds(record.storedFor)}`);
  if (record.excluding !== undefined) parts.push(`excluding ${formatIds(record.excluding)}`);
  parts.push(`data ${preview(record.message.d)}`);
  return parts.join(' ');
}

/** `undefined` when `actual` satisfies `wanted` (deep-equal after JSON, or a predicate); else a reason, possibly empty. */
function valueDifference(actual: unknown, wanted: unknown): string | undefined {
  if (typeof wanted !== 'function') return isDeepStrictEqual(actual, asClientsReceive(wanted)) ? undefined : '';
  try {
    return (wanted as (value: unknown) => unknown)(actual) ? undefined : ' (the predicate returned false)';
  } catch (error) {
    return ` (the predicate threw: ${error instanceof Error ? error.message : String(error)})`;
  }
}

function presenceHint(expected: ExpectedDispatch, simulated: SimulatedPresence): string {
  if (expected.publishedTo === undefined && expected.storedFor === undefined) return '';
  if (!simulated.syncEnabled) {
    return expected.storedFor?.length
      ? '\nSync is not simulated, so nothing is stored: use { sync: { enabled: true } } (RecordingDispatcher or MesaTestingModule.forRoot).'
      : '';
  }
  return `\nSimulated online ids: ${formatIds(simulated.online)} (the online option, setOnline()).`;
}

function sameIds(actual: readonly string[], expected: readonly string[]): boolean {
  const wanted = new Set(expected);
  return actual.length === wanted.size && actual.every((id) => wanted.has(id));
}

/** `value` as a client would receive it (a JSON round trip); `undefined` stays `undefined`. */
function asClientsReceive(value: unknown, name = 'value', call = 'expectDispatched'): unknown {
  if (value === undefined) return undefined;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : JSON.parse(json);
  } catch (error) {
    throw new MesaValidationError(
      `${call}: ${name} cannot be turned into JSON (${(error as Error).message}); compare with a predicate instead.`,
    );
  }
}

function formatIds(ids: readonly string[]): string {
  return `[${ids.join(', ')}]`;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
