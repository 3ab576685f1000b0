import { jest } from '@jest/globals';
import { DispatchPromise, type DispatchResult } from '../../../lib/index.js';
import { NOT_RUN, type EntryOutcome } from '../../../lib/publishing/batch-protocol.js';
import { entryOf, type BatchEntry, type SyncEntry } from '../../../lib/publishing/dispatch-entries.js';
import { DispatchFailures } from '../../../lib/publishing/dispatch-failures.js';
import { DispatchQueue, type QueueLimits } from '../../../lib/publishing/dispatch-queue.js';
import { MesaDispatchError } from '../../../lib/errors/mesa.errors.js';

const TIMEOUT = 1_000;
const LIMITS: QueueLimits = {
  batchEntries: 4,
  batchSize: 1_000,
  batchArgs: 100,
  unansweredBatches: 2,
  unansweredSize: 10_000,
  queuedDispatches: 10,
  queuedSize: 10_000,
};

/** A fake Redis for the queue: records each batch sent and answers it when the test says. */
class FakeRedis {
  status = 'ready';
  readonly batches: Array<{
    entries: BatchEntry[];
    answer(): void;
    fail(error: unknown): void;
    notRun(): void;
    progress: () => boolean;
  }> = [];

  readonly send = (entries: BatchEntry[], progress: () => boolean): Promise<EntryOutcome[] | typeof NOT_RUN> =>
    new Promise((resolve, reject) => {
      const outcomes = entries.map((entry): EntryOutcome => {
        const recipients = [...(entry as SyncEntry).recipients];
        return { recipients, publishedTo: recipients, storedFor: [], receivers: 1 };
      });
      this.batches.push({ entries, answer: () => resolve(outcomes), fail: reject, notRun: () => resolve(NOT_RUN), progress });
    });

  /** The `n` of each entry of each batch sent so far. */
  sent(): number[][] {
    return this.batches.map((batch) => batch.entries.map((entry) => JSON.parse((entry as SyncEntry).messageJson).d.n));
  }
}

function setup(options: { whenDisconnected?: 'queue' | 'fail'; limits?: Partial<QueueLimits> } = {}) {
  const redis = new FakeRedis();
  const unconsumed: unknown[] = [];
  const queue = new DispatchQueue({
    send: redis.send,
    batchFailure: (error) => new MesaDispatchError(`batch failed: ${(error as Error).message}`),
    connectionStatus: () => redis.status,
    failures: new DispatchFailures('redis://fake'),
    onUnconsumedFailure: (error) => unconsumed.push(error),
    dispatchTimeout: TIMEOUT,
    whenDisconnected: options.whenDisconnected ?? 'queue',
    limits: { ...LIMITS, ...options.limits },
  });
  const push = (n: number, ids: string[] = ['u']) => {
    const promise = DispatchPromise.pending<DispatchResult>();
    const messageJson = JSON.stringify({ op: 0, d: { n } });
    queue.push(entryOf({ kind: 'sync', messageJson, recipients: ids, recipientsJson: JSON.stringify(ids), ttl: 0, promise }, TIMEOUT));
    return promise;
  };
  return { redis, queue, push, unconsumed };
}

/** How each promise settled: 'resolved', or its rejection's message. */
async function outcomes(promises: Array<Promise<unknown>>): Promise<string[]> {
  return (await Promise.allSettled(promises)).map((o) => (o.status === 'fulfilled' ? 'resolved' : String(o.reason.message)));
}

const microtasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('DispatchQueue (fake send, fake timers): coalescing, bounds, expiry, order', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  it('coalesces the dispatches of one tick into batches of at most batchEntries, in call order', async () => {
    const { redis, push } = setup();
    const promises = [1, 2, 3, 4, 5, 6].map((n) => push(n));
    expect(redis.sent()).toEqual([[1, 2, 3, 4]]);
    await microtasks();
    expect(redis.sent()).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    redis.batches.forEach((batch) => batch.answer());
    expect(await outcomes(promises)).toEqual(Array(6).fill('resolved'));
  });

  it('splits by size and by arguments: a dispatch larger than a batch travels alone', async () => {
    const { redis, push } = setup({ limits: { batchArgs: 10 } });
    push(1);
    push(
      2,
      Array.from({ length: 20 }, (_, k) => `user-${k}`),
    );
    push(3);
    await microtasks();
    expect(redis.sent()).toEqual([[1], [2]]);
    redis.batches[0].answer();
    await microtasks();
    expect(redis.sent()).toEqual([[1], [2], [3]]);

    const bySize = setup({ limits: { batchSize: 100 } });
    bySize.push(1);
    bySize.push(2, ['x'.repeat(200)]);
    bySize.push(3);
    await microtasks();
    expect(bySize.redis.sent()).toEqual([[1], [2]]);
  });

  it('keeps at most unansweredBatches written and unanswered; the rest waits, unsent, and goes out as answers come', async () => {
    const { redis, push } = setup();
    const promises = Array.from({ length: 10 }, (_, n) => push(n));
    await microtasks();
    expect(redis.sent()).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    redis.batches[0].answer();
    await microtasks();
    expect(redis.sent().at(-1)).toEqual([8, 9]);
    redis.batches.slice(1).forEach((batch) => batch.answer());
    expect(await outcomes(promises)).toEqual(Array(10).fill('resolved'));
  });

  it('a full queue refuses at once as not sent; what waits expires as not sent after dispatchTimeout, and is never sent later', async () => {
    const { redis, push } = setup();
    const promises = Array.from({ length: 20 }, (_, n) => push(n));
    await microtasks();
    const early = await outcomes(promises.slice(18));
    expect(early.every((m) => /Too many dispatches are waiting.*maxQueuedDispatches: 10.*the message was not sent\.$/.test(m))).toBe(true);
    jest.advanceTimersByTime(TIMEOUT);
    const settled = await outcomes(promises);
    // 8 written (2 batches): their answer is overdue, the outcome unknown
    expect(
      settled.slice(0, 8).every((m) => /no answer within dispatchTimeout \(1000 ms\); the message may have been published/.test(m)),
    ).toBe(true);
    // 10 waited unsent behind them
    expect(settled.slice(8, 18).every((m) => /did not answer earlier dispatches.*the message was not sent and will not be\./.test(m))).toBe(
      true,
    );
    // a late answer frees the slots, and nothing that expired is sent
    redis.batches.forEach((batch) => batch.answer());
    await microtasks();
    expect(redis.sent().flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a timed-out batch keeps its place until Redis answers: a frozen Redis gets nothing more written', async () => {
    const { redis, push } = setup();
    Array.from({ length: 8 }, (_, n) => push(n).catch(() => undefined));
    await microtasks();
    jest.advanceTimersByTime(TIMEOUT);
    const later = push(100);
    await microtasks();
    expect(redis.batches).toHaveLength(2);
    redis.batches[0].answer();
    await microtasks();
    expect(redis.sent().at(-1)).toEqual([100]);
    redis.batches.at(-1)!.answer();
    expect(await outcomes([later])).toEqual(['resolved']);
  });

  it("holds while disconnected ('queue') and sends in order when pumped on ready; fails at once with 'fail'", async () => {
    const held = setup();
    held.redis.status = 'reconnecting';
    const promises = [1, 2].map((n) => held.push(n));
    await microtasks();
    expect(held.redis.batches).toHaveLength(0);
    held.redis.status = 'ready';
    held.queue.pump();
    expect(held.redis.sent()).toEqual([[1, 2]]);
    held.redis.batches[0].answer();
    expect(await outcomes(promises)).toEqual(['resolved', 'resolved']);

    const failing = setup({ whenDisconnected: 'fail' });
    failing.redis.status = 'reconnecting';
    const refused = failing.push(1);
    await microtasks();
    expect(await outcomes([refused])).toEqual([
      "Redis at redis://fake is unreachable (connection reconnecting); the message was not sent (whenDisconnected: 'fail').",
    ]);
  });

  it('a lost connection fails what awaited an answer at once, frees the places, and sends what waited', async () => {
    const { redis, queue, push } = setup();
    const promises = Array.from({ length: 10 }, (_, n) => push(n));
    await microtasks();
    queue.connectionLost('the connection closed');
    const lost = await outcomes(promises.slice(0, 8));
    expect(
      lost.every((m) => /lost the connection before answering \(the connection closed\); the message may have been published\./.test(m)),
    ).toBe(true);
    expect(redis.sent().at(-1)).toEqual([8, 9]);
  });

  it('a batch that fails as a whole rejects each entry with the publisher’s reading of the error', async () => {
    const { redis, push } = setup();
    const promises = [push(1), push(2)];
    await microtasks();
    redis.batches[0].fail(new Error('OOM'));
    expect(await outcomes(promises)).toEqual(['batch failed: OOM', 'batch failed: OOM']);
  });

  it('drain() resolves once nothing waits and every batch sent has settled', async () => {
    const { redis, queue, push } = setup();
    push(1);
    let drained = false;
    void queue.drain().then(() => (drained = true));
    await microtasks();
    expect(drained).toBe(false);
    redis.batches[0].answer();
    await microtasks();
    await microtasks();
    expect(drained).toBe(true);
  });

  it('a batch Redis did not run comes back in front, in the order sent; while paused, and until every batch sent before is back, nothing is sent', async () => {
    const { redis, queue, push } = setup({ limits: { batchEntries: 1, unansweredBatches: 4 } });
    const promises = [1, 2, 3].map((n) => push(n));
    await microtasks();
    expect(redis.sent()).toEqual([[1], [2], [3]]);
    let finish!: () => void;
    queue.pauseWhile(new Promise<void>((resolve) => (finish = resolve)));
    promises.push(push(4));
    redis.batches[1].notRun();
    redis.batches[2].notRun();
    await microtasks();
    await microtasks();
    expect(redis.sent()).toEqual([[1], [2], [3]]);
    finish();
    await microtasks();
    await microtasks();
    // batch 1, sent before the pause ended, is not back yet
    expect(redis.sent()).toEqual([[1], [2], [3]]);
    redis.batches[0].answer();
    await microtasks();
    await microtasks();
    expect(redis.sent()).toEqual([[1], [2], [3], [2], [3], [4]]);
    redis.batches.slice(3).forEach((batch) => batch.answer());
    expect(await outcomes(promises)).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
  });

  it('a batch sent back after waiting past dispatchTimeout fails as not sent; progress() restarts the timeout until the batch is given up', async () => {
    const { redis, queue, push } = setup({ limits: { batchEntries: 1 } });
    const first = push(1);
    const second = push(2);
    await microtasks();
    queue.pauseWhile(new Promise(() => undefined));
    jest.advanceTimersByTime(TIMEOUT - 100);
    expect(redis.batches[0].progress()).toBe(true);
    redis.batches[1].notRun();
    await microtasks();
    await microtasks();
    jest.advanceTimersByTime(TIMEOUT - 100);
    expect(redis.batches[0].progress()).toBe(true);
    jest.advanceTimersByTime(TIMEOUT);
    expect(redis.batches[0].progress()).toBe(false);
    expect(await outcomes([first, second])).toEqual([
      'Redis at redis://fake: no answer within dispatchTimeout (1000 ms); the message may have been published.',
      'Redis at redis://fake stayed unreachable, or did not answer earlier dispatches, for dispatchTimeout (1000 ms); the message was not sent and will not be.',
    ]);
  });
});
