import type { Redis } from 'ioredis';
import { watchedTransaction } from '../../../lib/redis/watched-transaction.js';
import { RedisServer } from '../../support/redis-server.js';

describe('watchedTransaction: WATCH, read, MULTI/EXEC, again on a conflict (real redis-server)', () => {
  let redis: RedisServer;
  let client: Redis;
  let other: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = redis.client();
    other = redis.client();
  });
  beforeEach(() => other.flushall());
  afterAll(async () => {
    client.disconnect();
    other.disconnect();
    await redis.stop();
  });

  const increment = (changeMeanwhile: () => Promise<unknown>) => async () => {
    const value = Number(await client.get('counter'));
    await changeMeanwhile();
    return { transaction: client.multi().set('counter', value + 1), outcome: () => value + 1 };
  };
  const conflict = (attempts: number) => new Error(`conflicted ${attempts} times`);

  it('writes what it read when nothing changed meanwhile', async () => {
    await other.set('counter', '41');
    expect(
      await watchedTransaction(
        client,
        ['counter'],
        increment(async () => undefined),
        3,
        conflict,
      ),
    ).toBe(42);
    expect(await other.get('counter')).toBe('42');
  });

  it('starts over when another client changed a watched key between the read and EXEC, and reads the new value', async () => {
    let changes = 2;
    const meanwhile = async () => changes-- > 0 && other.incrby('counter', 10);
    expect(await watchedTransaction(client, ['counter'], increment(meanwhile), 3, conflict)).toBe(21);
    expect(await other.get('counter')).toBe('21');
  });

  it('gives up after `attempts` conflicts in a row, having written nothing', async () => {
    const meanwhile = () => other.incrby('counter', 10);
    await expect(watchedTransaction(client, ['counter'], increment(meanwhile), 3, conflict)).rejects.toThrow('conflicted 3 times');
    expect(await other.get('counter')).toBe('30');
  });

  it('leaves no WATCH behind when the read fails or there is nothing to write', async () => {
    await other.set('counter', 'not a list');
    const failing = async () => {
      await client.lrange('counter', 0, -1);
      return undefined;
    };
    // a WATCH left on the connection would make the EXEC after it fail once the other client writes
    const unwatched = async () => {
      await other.set('counter', 'changed');
      return client.multi().set('counter', 'mine').exec();
    };
    await expect(watchedTransaction(client, ['counter'], failing, 3, conflict)).rejects.toThrow(/WRONGTYPE/);
    expect(await unwatched()).toEqual([[null, 'OK']]);
    expect(await watchedTransaction(client, ['counter'], async () => undefined, 3, conflict)).toBeUndefined();
    expect(await unwatched()).toEqual([[null, 'OK']]);
  });
});
