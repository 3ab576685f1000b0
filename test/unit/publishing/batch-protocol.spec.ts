import { DispatchPromise, type DispatchResult } from '../../../lib/index.js';
import { decodeReplies, encodeBatch } from '../../../lib/publishing/batch-protocol.js';
import { entryOf, mesaEnvelope, type BatchEntry, type EntryFields, type PublishEntry } from '../../../lib/publishing/dispatch-entries.js';
import { mesaRedisNames } from '../../../lib/redis/mesa-redis-names.js';

type Fields = EntryFields extends infer F ? (F extends EntryFields ? Omit<F, 'promise'> : never) : never;
const promise = () => DispatchPromise.pending<DispatchResult>();
const entry = (fields: Fields): BatchEntry => entryOf({ ...fields, promise: promise() } as EntryFields, 1_000);
/** Script arguments written as one line (none of these holds a space). */
const words = (line: string) => line.split(' ');
const publish = (n: number, ids: string[]) =>
  entry({ kind: 'publish', envelope: mesaEnvelope(`{"op":0,"d":${n}}`, JSON.stringify(ids)), recipients: ids });
const syncFields = (n: number, ids: string[], ttl = 0) =>
  ({ kind: 'sync', messageJson: `{"op":0,"d":${n}}`, recipients: ids, recipientsJson: JSON.stringify(ids), ttl }) as const;
const sync = (n: number, ids: string[], ttl = 0) => entry(syncFields(n, ids, ttl));
const except = (n: number, excluding: string[]) => entry({ kind: 'broadcast-except', messageJson: `{"op":0,"d":${n}}`, excluding });
const names = mesaRedisNames('ns');
const caps = { maxCount: 10, maxBytes: 2048 };
const keyed = { budget: 0, holdMs: 1, keyWindow: 60_000 };

describe('encodeBatch: the batch script arguments', () => {
  it('sends a batch of plain publishes in the `p` layout: the channel, then the envelopes as they are', () => {
    expect(encodeBatch([publish(1, ['a']), publish(2, ['*'])], names, caps)).toEqual(
      words('ws_ns p {"message":{"op":0,"d":1},"recipients":["a"]} {"message":{"op":0,"d":2},"recipients":["*"]}'),
    );
  });

  it('sends a mixed batch in the `e` layout: caps, budget, continuation flag and hold time, then one operation per entry', () => {
    const room = ['a', 'b'];
    const batch = [sync(1, room, 500), publish(2, ['x']), except(3, ['c']), sync(4, room)];
    const args = encodeBatch(batch, names, caps, { budget: 100, holdMs: 7 });
    expect(args.slice(0, 7)).toEqual(['ws_ns', 'e', '10', '2048', '100', '', '7']);
    expect(args.slice(7)).toEqual(
      words(
        's {"op":0,"d":1} 500 2 a b ' +
          'p {"message":{"op":0,"d":2},"recipients":["x"]} ' +
          'x {"op":0,"d":3} 1 c ' +
          // the same list again: by its number, never sent twice
          's {"op":0,"d":4} 0 =1',
      ),
    );
  });

  it('tells lists apart by their JSON text, never by joining ids: ["a,b"] and ["a", "b"] are two lists', () => {
    const args = encodeBatch([sync(1, ['a,b']), sync(2, ['a', 'b']), sync(3, ['a,b'])], names, caps);
    expect(args.slice(7)).toEqual(words('s {"op":0,"d":1} 0 1 a,b s {"op":0,"d":2} 0 2 a b s {"op":0,"d":3} 0 =1'));
  });

  it('sends a sync with the list and ttl of the sync before it as `r <message>`, whatever comes between', () => {
    const room = ['a', 'b'];
    const keyedSync = entry({ ...syncFields(4, room), key: 'k' });
    const batch = [sync(1, room), sync(2, [...room]), publish(3, ['x']), keyedSync, sync(5, room, 60), sync(6, room, 60), sync(7, room)];
    expect(encodeBatch(batch, names, caps, keyed).slice(7)).toEqual(
      words(
        's {"op":0,"d":1} 0 2 a b r {"op":0,"d":2} p {"message":{"op":0,"d":3},"recipients":["x"]} ' +
          'i k 60000 r {"op":0,"d":4} s {"op":0,"d":5} 60 =1 r {"op":0,"d":6} s {"op":0,"d":7} 0 =1',
      ),
    );
  });

  it("writes, in a continuation, each ttl as an expiry at the first call's Redis time (`@<ms>`); no ttl stays `0`", () => {
    const args = encodeBatch([sync(1, ['a'], 500), sync(2, ['a'])], names, caps, { budget: 1, holdMs: 2, expiryBase: 1_000 });
    expect(args.slice(5)).toEqual(words('c 2 s {"op":0,"d":1} @1500 1 a s {"op":0,"d":2} 0 =1'));
  });
});

describe('encodeBatch: idempotency keys', () => {
  const keyedPublish = entry({ kind: 'publish', envelope: mesaEnvelope('{"op":0}', '["a"]'), recipients: ['a'], key: 'K1' });

  it('a keyed publish never takes the `p` layout: each keyed entry is preceded by `i <key> <window>`', () => {
    const args = encodeBatch([publish(1, ['a']), keyedPublish], names, caps, keyed);
    expect(args.slice(0, 2)).toEqual(['ws_ns', 'e']);
    expect(args.slice(7)).toEqual(
      words('p {"message":{"op":0,"d":1},"recipients":["a"]} i K1 60000 p {"message":{"op":0},"recipients":["a"]}'),
    );
  });

  it('carries the key on a sync entry and a broadcast-except alike, and counts its three arguments and its size', () => {
    const keyedSync = entry({ kind: 'sync', messageJson: '{"op":0}', recipients: ['a'], recipientsJson: '["a"]', ttl: 0, key: 'K2' });
    const keyedExcept = entry({ kind: 'broadcast-except', messageJson: '{"op":0}', excluding: [], key: 'K3' });
    expect(encodeBatch([keyedSync, keyedExcept], names, caps, keyed).slice(7)).toEqual(
      words('i K2 60000 s {"op":0} 0 1 a i K3 60000 x {"op":0} 0'),
    );
    expect([keyedSync.args, keyedSync.size]).toEqual([4 + 1 + 3, '{"op":0}'.length + 1 + 2]);
    expect([keyedPublish.args, sync(1, ['a']).args]).toEqual([5, 5]);
  });
});

describe('decodeReplies: one outcome per entry', () => {
  it('gives every publish of a `p` batch the one receiver count the script answered, each with its own copy of its list', () => {
    const batch = [publish(1, ['a']), publish(2, ['b', 'c'])];
    const outcomes = decodeReplies(batch, 3) as DispatchResult[];
    expect(outcomes).toEqual([
      { recipients: ['a'], publishedTo: ['a'], storedFor: [], receivers: 3 },
      { recipients: ['b', 'c'], publishedTo: ['b', 'c'], storedFor: [], receivers: 3 },
    ]);
    expect(outcomes[1].recipients).not.toBe((batch[1] as PublishEntry).recipients);
  });

  it('splits a sync entry by its flags, reports drops and expiries per user, and reads refusals as "not sent"', () => {
    const room = ['a', 'b', 'c'];
    const batch = [sync(1, room), publish(2, ['x']), except(3, []), sync(4, ['d'])];
    const outcomes = decodeReplies(batch, [
      [1, 2, '100', ['b', 1], ['c', 2]],
      5,
      [2, 4, 'u', 'v'],
      [0, 'WRONGTYPE: undelivered_messages holds a string'],
    ]);
    expect(outcomes).toEqual([
      { recipients: room, publishedTo: ['a'], storedFor: ['b', 'c'], receivers: 2, dropped: { b: 1 }, expired: { c: 2 } },
      { recipients: ['x'], publishedTo: ['x'], storedFor: [], receivers: 5 },
      { recipients: ['u', 'v'], publishedTo: ['u', 'v'], storedFor: [], receivers: 4 },
      { reason: 'WRONGTYPE: undelivered_messages holds a string', mayHaveBeenPublished: false, final: true },
    ]);
  });

  it("splits a list once for a room's dispatches with the same flags, giving each its own arrays", () => {
    const room = ['a', 'b'];
    const [first, second] = decodeReplies(
      [sync(1, room), sync(2, room)],
      [
        [1, 1, '10', [], []],
        [1, 1, '10', [], []],
      ],
    ) as DispatchResult[];
    expect(second).toEqual(first);
    expect(second.publishedTo).not.toBe(first.publishedTo);
    expect(second.storedFor).not.toBe(first.storedFor);
  });

  it('reads `{3}` as a duplicate (nothing published or stored by it), and flags `4` (done by an earlier try) as neither', () => {
    const batch = [sync(1, ['a', 'b']), publish(2, ['x']), except(3, ['c']), sync(4, ['a', 'b', 'c'])];
    const outcomes = decodeReplies(batch, [[3], [3], [3], [1, 1, '401', [], [], 1]]);
    expect(outcomes).toEqual([
      { recipients: ['a', 'b'], publishedTo: [], storedFor: [], receivers: 0, duplicate: true },
      { recipients: ['x'], publishedTo: [], storedFor: [], receivers: 0, duplicate: true },
      { recipients: [], publishedTo: [], storedFor: [], receivers: 0, duplicate: true },
      { recipients: ['a', 'b', 'c'], publishedTo: ['c'], storedFor: ['b'], receivers: 1, duplicate: true },
    ]);
  });

  it("reads compact sync replies: flags '' are those of the sync reply before it (across other kinds), empty lists left out", () => {
    const room = ['a', 'b'];
    const batch = [sync(1, room), publish(2, ['x']), sync(3, room), sync(4, room), sync(5, ['c']), sync(6, room)];
    const outcomes = decodeReplies(batch, [[1, 1, '10'], 4, [1, 1, ''], [1, 1, '', ['b', 2], []], [1, 0, '0'], [1, 1, '01']]);
    expect(outcomes).toEqual([
      { recipients: room, publishedTo: ['a'], storedFor: ['b'], receivers: 1 },
      { recipients: ['x'], publishedTo: ['x'], storedFor: [], receivers: 4 },
      { recipients: room, publishedTo: ['a'], storedFor: ['b'], receivers: 1 },
      { recipients: room, publishedTo: ['a'], storedFor: ['b'], receivers: 1, dropped: { b: 2 } },
      { recipients: ['c'], publishedTo: [], storedFor: ['c'], receivers: 0 },
      { recipients: room, publishedTo: ['b'], storedFor: ['a'], receivers: 1 },
    ]);
  });

  it('keeps counts by id in objects without a prototype (an id may be __proto__)', () => {
    const [result] = decodeReplies([sync(1, ['__proto__'])], [[1, 0, '0', ['__proto__', 3], []]]) as DispatchResult[];
    expect(Object.getPrototypeOf(result.dropped)).toBeNull();
    expect(result.dropped!['__proto__']).toBe(3);
  });
});
