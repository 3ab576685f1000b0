import { inspect } from 'node:util';
import { DispatchPromise } from '../../lib/index.js';

const macrotask = () => new Promise((resolve) => setImmediate(resolve));

describe('DispatchPromise: a rejection is consumed by the caller, or logged, never unhandled', () => {
  it('reports a rejection nobody consumed', async () => {
    const reported: unknown[] = [];
    DispatchPromise.pending<number>().fail(new Error('lost'), (error) => reported.push(error));
    await macrotask();
    await macrotask();
    expect(reported).toEqual([new Error('lost')]);
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
    const reported: unknown[] = [];
    const promise = DispatchPromise.pending<number>();
    consume(promise);
    promise.fail(new Error('handled'), (error) => reported.push(error));
    await macrotask();
    await macrotask();
    expect(reported).toEqual([]);
  });

  it.each<[string, (p: Promise<number>) => unknown]>([
    ['instanceof', (p) => p instanceof Promise],
    ['util.inspect', (p) => inspect(p)],
    ['keeping it in an array', (p) => [p]],
  ])('still reports a rejection only held with %s', async (_name, hold) => {
    const reported: unknown[] = [];
    const promise = DispatchPromise.pending<number>();
    hold(promise);
    promise.fail(new Error('lost'), (error) => reported.push(error));
    await macrotask();
    await macrotask();
    expect(reported).toEqual([new Error('lost')]);
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
