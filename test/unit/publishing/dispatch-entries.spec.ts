import { DispatchPromise, Message, type DispatchResult } from '../../../lib/index.js';
import { resolveMesaOptions } from '../../../lib/options/resolved-mesa-options.js';
import {
  broadcastExceptEntry,
  dispatchEntry,
  entryOf,
  idempotencyKeyName,
  mesaEnvelope,
  type EntryFields,
} from '../../../lib/publishing/dispatch-entries.js';
import { prepareBroadcastExcept } from '../../../lib/validation/broadcast-input.validator.js';
import { prepareDispatch } from '../../../lib/validation/dispatch-input.validator.js';

const promise = () => DispatchPromise.pending<DispatchResult>();
const plain = resolveMesaOptions({ url: 'redis://unused', dispatchTimeout: 2_000 });
const syncing = resolveMesaOptions({ url: 'redis://unused', dispatchTimeout: 2_000, sync: { enabled: true, ttl: 60_000 } });

/** An entry without its expiry, which is taken from the clock when it is built. */
const withoutExpiry = ({ expiresAt, ...rest }: { expiresAt: number }) => {
  expect(expiresAt).toBeGreaterThan(0);
  return rest;
};

describe('dispatchEntry: a prepared dispatch as one entry, built without a fields object', () => {
  // [what, options, message, ids, the kind it becomes, the stored copies' ttl of a sync entry]: every row has all six
  // (jest.each takes a test function with more parameters than the row for one that awaits `done`)
  const cases: Array<[string, typeof plain, Message, string[], 'publish' | 'sync', number | undefined]> = [
    ['a publish', plain, new Message(0, { n: 1 }, 'EVT'), ['a', 'b'], 'publish', undefined],
    ['a broadcast with sync on', syncing, new Message(0, { n: 2 }, 'EVT'), ['*'], 'publish', undefined],
    ['a sync dispatch', syncing, new Message(0, { n: 3 }, 'EVT'), ['a', 'bb', 'ccc'], 'sync', 60_000],
    ['a { sync: false } message', syncing, new Message(0, { n: 4 }, 'EVT', { sync: false }), ['a'], 'publish', undefined],
    ['a keyed sync dispatch', syncing, new Message(0, { n: 5 }, 'EVT', { idempotencyKey: 'k-1' }), ['a', 'b'], 'sync', 60_000],
    ['a keyed publish', plain, new Message(0, { n: 6 }, 'EVT', { idempotencyKey: 'k-2' }), ['a'], 'publish', undefined],
    ['a message ttl', syncing, new Message(0, { n: 7 }, 'EVT', { ttl: 5_000 }), ['a'], 'sync', 5_000],
  ];

  it.each(cases)(
    '%s: the entry entryOf builds from its fields, expiring dispatchTimeout from now',
    (_, options, message, ids, kind, ttl) => {
      const prepared = prepareDispatch(message, ids, undefined);
      const settlement = promise();
      const before = Date.now();
      const direct = dispatchEntry(prepared, options, settlement);
      const after = Date.now();
      expect(direct.expiresAt).toBeGreaterThanOrEqual(before + 2_000);
      expect(direct.expiresAt).toBeLessThanOrEqual(after + 2_000);
      const { messageJson, recipients, recipientsJson, idempotencyKey } = prepared;
      const key = idempotencyKey === undefined ? undefined : idempotencyKeyName(options, idempotencyKey);
      const fields: EntryFields =
        kind === 'sync'
          ? { kind, messageJson, recipients, recipientsJson, ttl: ttl!, key, promise: settlement }
          : { kind, envelope: mesaEnvelope(messageJson, recipientsJson), recipients, key, promise: settlement };
      const expected = entryOf(fields, options.dispatchTimeout);
      expect(withoutExpiry(direct)).toEqual(withoutExpiry(expected));
      expect(Object.keys(direct)).toEqual(Object.keys(expected));
      expect(direct.promise).toBe(settlement);
    },
  );

  it('refuses a message ttl where no sweep runs', () => {
    const noSweep = resolveMesaOptions({ url: 'redis://unused', sync: { enabled: true } });
    const prepared = prepareDispatch(new Message(0, {}, 'EVT', { ttl: 5_000 }), ['a'], undefined);
    expect(() => dispatchEntry(prepared, noSweep, promise())).toThrow(/Message ttl needs the sweep/);
  });
});

describe('broadcastExceptEntry: a checked broadcast to all but some, built without a fields object', () => {
  it.each([
    ['without a key', new Message(0, { n: 1 }, 'EVT')],
    ['with a key', new Message(0, { n: 2 }, 'EVT', { idempotencyKey: 'k-3' })],
  ])('%s: the entry entryOf builds from its fields, expiring dispatchTimeout from now', (_, message) => {
    const broadcast = prepareBroadcastExcept(message, { excluding: ['a', 'bb'] });
    const settlement = promise();
    const before = Date.now();
    const direct = broadcastExceptEntry(broadcast, plain, settlement);
    expect(direct.expiresAt).toBeGreaterThanOrEqual(before + 2_000);
    const { messageJson, idempotencyKey } = broadcast.prepared;
    const key = idempotencyKey === undefined ? undefined : idempotencyKeyName(plain, idempotencyKey);
    const fields: EntryFields = { kind: 'broadcast-except', messageJson, excluding: ['a', 'bb'], key, promise: settlement };
    const expected = entryOf(fields, plain.dispatchTimeout);
    expect(withoutExpiry(direct)).toEqual(withoutExpiry(expected));
    expect(Object.keys(direct)).toEqual(Object.keys(expected));
  });
});

describe('mesaEnvelope: the envelope Mesa servers read', () => {
  it('joins the message and its list exactly, whichever list the envelope before it had', () => {
    const lists = [['a', 'b'], ['a', 'b'], ['c'], ['a', 'b'], ['"q"', 'x,y'], ['c']];
    lists.forEach((ids, n) => {
      const messageJson = JSON.stringify({ op: 0, d: { n }, t: 'EVT' });
      // a new JSON text of the same list each time, as a new array per call gives
      const envelope = mesaEnvelope(messageJson, JSON.stringify([...ids]));
      expect(JSON.parse(envelope)).toEqual({ message: { op: 0, d: { n }, t: 'EVT' }, recipients: ids });
      expect(envelope).toBe(`{"message":${messageJson},"recipients":${JSON.stringify(ids)}}`);
    });
  });
});
