import { inspect } from 'node:util';
import { DispatchPromise } from '../../lib/index.js';

const macrotask = () => new Promise((resolve) => setImmediate(resolve));

/** Fails a pending DispatchPromise after `use` had it, and returns what was reported as unconsumed. */
async function reportedWhenFailedAfter(use: (promise: Promise<number>) => unknown): Promise<unknown[]> {
  const reported: unknown[] = [];
  const promise = DispatchPromise.pending<number>();
  use(promise);
  promise.fail(new Error('failed'), (error) => reported.push(error));
  await macrotask();
  await macrotask();
  return reported;
}

describe('DispatchPromise: a rejection is consumed by the caller, or logged, never unhandled', () => {
  it('reports a rejection nobody consumed', async () => {
    expect(await reportedWhenFailedAfter(() => undefined)).toEqual([new Error('failed')]);
  });

  it.each<[string, (p: Promise<number>) => unknown]>([
    ['await', async (p) => p.catch(() => undefined)],
    ['then', (p) => p.then(undefined, () => undefined)],
    ['catch', (p) => p.catch(() => undefined)],
    ['finally', (p) => p.finally(() => undefined).catch(() => undefined)],
    ['Promise.all', (p) => Promise.all([p]).catch(() => undefined)],
    ['Promise.allSettled', (p) => Promise.allSettled([p])],
    ['Promise.race', (p) => Promise.race([p]).catch(() => undefined)],
    ['Promise.any', (p) => Promise.any([p]).catch(() => undefined)],
    ['an async function returning it, awaited', (p) => (async () => p)().catch(() => undefined)],
  ])('leaves a rejection consumed with %s to the caller', async (_name, consume) => {
    expect(await reportedWhenFailedAfter(consume)).toEqual([]);
  });

  it.each<[string, (p: Promise<number>) => unknown]>([
    ['instanceof', (p) => p instanceof Promise],
    ['util.inspect', (p) => inspect(p)],
    ['keeping it in an array', (p) => [p]],
  ])('still reports a rejection only held with %s', async (_name, hold) => {
    expect(await reportedWhenFailedAfter(hold)).toEqual([new Error('failed')]);
  });

  it('awaits like a native promise: taken as it is, and what then() derives is a plain Promise', async () => {
    const promise = DispatchPromise.pending<number>();
    expect(Promise.resolve(promise)).toBe(promise);
    expect(Object.getPrototypeOf(promise.then(() => undefined))).toBe(Promise.prototype);
    expect(promise).toBeInstanceOf(DispatchPromise);
    promise.succeed(3);
    expect(await promise).toBe(3);
  });

  it('settles once: later successes or failures are ignored', async () => {
    const promise = DispatchPromise.pending<number>();
    promise.succeed(1);
    promise.fail(new Error('late'), () => undefined);
    promise.succeed(2);
    await expect(promise).resolves.toBe(1);
  });
});
