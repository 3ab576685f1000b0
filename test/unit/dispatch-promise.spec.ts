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
    ['Promise.all', (p) => Promise.all([p]).catch(() => undefined)],
    ['Promise.allSettled', (p) => Promise.allSettled([p])],
  ])('leaves a rejection consumed with %s to the caller', async (_name, consume) => {
    const reported: unknown[] = [];
    const promise = DispatchPromise.pending<number>();
    consume(promise);
    promise.fail(new Error('handled'), (error) => reported.push(error));
    await macrotask();
    await macrotask();
    expect(reported).toEqual([]);
  });

  it('settles once: later successes or failures are ignored', async () => {
    const promise = DispatchPromise.pending<number>();
    promise.succeed(1);
    promise.fail(new Error('late'), () => undefined);
    promise.succeed(2);
    await expect(promise).resolves.toBe(1);
  });
});
