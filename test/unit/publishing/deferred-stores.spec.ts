import { DispatchPromise, type DispatchResult } from '../../../lib/index.js';
import { encodeBatch } from '../../../lib/publishing/batch-protocol.js';
import { entryOf, type BatchEntry, type SyncEntry } from '../../../lib/publishing/dispatch-entries.js';
import { DeferredStores } from '../../../lib/publishing/deferred-stores.js';
import { mesaRedisNames } from '../../../lib/redis/mesa-redis-names.js';

const sync = (n: number, ids: string[], ttl = 0): SyncEntry =>
  entryOf(
    {
      kind: 'sync',
      messageJson: `{"op":0,"d":${n}}`,
      recipients: ids,
      recipientsJson: JSON.stringify(ids),
      ttl,
      promise: DispatchPromise.pending<DispatchResult>(),
    },
    1_000,
  ) as SyncEntry;
const publish = (envelope: string): BatchEntry =>
  entryOf({ kind: 'publish', envelope, recipients: ['x'], promise: DispatchPromise.pending<DispatchResult>() }, 1_000);

describe('DeferredStores: a batch whose stores are finished in continuation calls', () => {
  const room = ['a', 'b', 'c', 'd'];
  const batch = [sync(1, room, 5_000), publish('{"message":{"op":0},"recipients":["x"]}'), sync(2, room), sync(3, ['d'])];
  // first call: a online, b stored, c and d deferred (over the budget); the publish answered 1 receiver
  const first = [[1, 2, '1022', ['b', 1], []], 1, [1, 2, '1022', [], []], [1, 0, '2', [], []], 1_700_000_000_000];

  it('asks for the deferred recipients only, their expiry counted from the first call, lists shared as in the batch', () => {
    const deferred = new DeferredStores(batch, first);
    const next = deferred.next();
    expect(next.map((entry) => (entry as SyncEntry).recipients)).toEqual([['c', 'd'], ['c', 'd'], ['d']]);
    expect((next[0] as SyncEntry).recipients).toBe((next[1] as SyncEntry).recipients);
    const args = encodeBatch(
      next,
      mesaRedisNames(),
      { maxCount: 0, maxBytes: 0 },
      { budget: 10, holdMs: 5, expiryBase: deferred.expiryBase },
    );
    expect(args).toEqual([
      'ws',
      'e',
      '0',
      '0',
      '10',
      'c',
      '5',
      's',
      '{"op":0,"d":1}',
      '@1700000005000',
      '2',
      'c',
      'd',
      's',
      '{"op":0,"d":2}',
      '0',
      '=1',
      's',
      '{"op":0,"d":3}',
      '0',
      '1',
      'd',
    ]);
  });

  it('merges each continuation: c came online (published to), d stored; receivers are the largest any call saw', () => {
    const deferred = new DeferredStores(batch, first);
    deferred.next();
    deferred.merge([
      [1, 3, '10', [], ['d', 2]],
      [1, 3, '10', [], []],
      [1, 0, '0', ['d', 1], []],
    ]);
    expect(deferred.unfinished).toBe(false);
    const [one, published, two, three] = deferred.finish() as DispatchResult[];
    expect(one).toEqual({
      recipients: room,
      publishedTo: ['a', 'c'],
      storedFor: ['b', 'd'],
      receivers: 3,
      dropped: { b: 1 },
      expired: { d: 2 },
    });
    expect(two).toMatchObject({ publishedTo: ['a', 'c'], storedFor: ['b', 'd'], receivers: 3 });
    expect(published).toMatchObject({ publishedTo: ['x'], receivers: 1 });
    expect(three).toEqual({ recipients: ['d'], publishedTo: [], storedFor: ['d'], receivers: 0, dropped: { d: 1 } });
  });

  it("reads compact replies in the first call and in continuations: flags '' are those of the sync reply before, no empty lists", () => {
    const compactFirst = [[1, 2, '1022', ['b', 1], []], 1, [1, 2, ''], [1, 0, '2'], 1_700_000_000_000];
    const deferred = new DeferredStores(batch, compactFirst);
    expect(deferred.next().map((entry) => (entry as SyncEntry).recipients)).toEqual([['c', 'd'], ['c', 'd'], ['d']]);
    deferred.merge([
      [1, 3, '10', [], ['d', 2]],
      [1, 3, ''],
      [1, 0, '0', ['d', 1], []],
    ]);
    expect(deferred.unfinished).toBe(false);
    const [one, , two, three] = deferred.finish() as DispatchResult[];
    expect(one).toMatchObject({ publishedTo: ['a', 'c'], storedFor: ['b', 'd'], dropped: { b: 1 }, expired: { d: 2 } });
    expect(two).toEqual({ recipients: room, publishedTo: ['a', 'c'], storedFor: ['b', 'd'], receivers: 3 });
    expect(three).toEqual({ recipients: ['d'], publishedTo: [], storedFor: ['d'], receivers: 0, dropped: { d: 1 } });
  });

  it('a recipient whose text Mesa cannot read (3), or a continuation Redis refused, fails its dispatch as "may have been published"', () => {
    const deferred = new DeferredStores(batch, first);
    deferred.next();
    deferred.merge([
      [1, 0, '03', [], []],
      [1, 0, '03', [], []],
      [0, 'WRONGTYPE: …'],
    ]);
    expect(deferred.unfinished).toBe(false);
    const outcomes = deferred.finish();
    const unreadable = {
      reason:
        'not stored for "d" (their undelivered_messages field is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()); published or stored for the other recipients',
      mayHaveBeenPublished: true,
      final: true, // a retry would find the same text
    };
    expect([outcomes[0], outcomes[2]]).toEqual([unreadable, unreadable]);
    expect(outcomes[3]).toEqual({
      reason: 'not stored for "d" (WRONGTYPE: …); published or stored for the other recipients',
      mayHaveBeenPublished: true,
      final: true,
    });
  });

  it('a continuation that stopped leaves its unfinished dispatches failed as "may have been published", the others resolved', () => {
    const deferred = new DeferredStores(batch, first);
    deferred.next();
    const outcomes = deferred.finish('Redis at r failed (connection closed)');
    const stopped = {
      reason: 'Redis at r failed (connection closed), while its stores for offline recipients were written in further script calls',
      mayHaveBeenPublished: true,
    };
    expect([outcomes[0], outcomes[2], outcomes[3]]).toEqual([stopped, stopped, stopped]);
    expect(outcomes[1]).toMatchObject({ publishedTo: ['x'], receivers: 1 });
  });
});
