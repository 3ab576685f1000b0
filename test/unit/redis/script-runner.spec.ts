import type { Redis } from 'ioredis';
import { ScriptRunner, scriptForServer } from '../../../lib/redis/script-runner.js';
import { commandCalls } from '../../support/stored-backlog.js';
import { RedisServer } from '../../support/redis-server.js';

/** Appends its argument to a list and answers the list's length: call order shows in the list. */
const APPEND = `#!lua\nreturn redis.call('RPUSH', KEYS[1], ARGV[1])`;

describe('ScriptRunner, against a real redis-server', () => {
  let redis: RedisServer;
  let client: Redis;
  let admin: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = redis.client();
    admin = redis.client();
  });
  beforeEach(() => admin.flushall());
  afterAll(async () => {
    client.disconnect();
    admin.disconnect();
    await redis.stop();
  });

  it('runs the script by its SHA, and sends its text (EVAL) only when Redis does not have it', async () => {
    const runner = new ScriptRunner({ client, serverMajorVersion: 7 }, APPEND);
    await admin.config('RESETSTAT');
    expect(await runner.run(['list'], ['a'])).toBe(1);
    expect(await runner.run(['list'], ['b'])).toBe(2);
    const calls = await commandCalls(admin);
    expect([calls.evalsha, calls.eval]).toEqual([2, 1]);
    expect(await admin.lrange('list', 0, -1)).toEqual(['a', 'b']);
  });

  it('keeps call order across a lost script cache: the calls answered NOSCRIPT are re-sent before any later call', async () => {
    const runner = new ScriptRunner({ client, serverMajorVersion: 7 }, APPEND);
    await runner.run(['list'], ['warm']);
    await admin.del('list');
    await admin.script('FLUSH');
    const first = Array.from({ length: 50 }, (_, k) => runner.run(['list'], [String(k)]));
    await Promise.resolve();
    const later = Array.from({ length: 50 }, (_, k) => runner.run(['list'], [String(50 + k)]));
    await Promise.all([...first, ...later]);
    expect(await admin.lrange('list', 0, -1)).toEqual(Array.from({ length: 100 }, (_, k) => String(k)));
  });

  it('runs the script Redis before 7 can read: without its #!lua line', async () => {
    expect(scriptForServer(APPEND, 6)).toBe(`return redis.call('RPUSH', KEYS[1], ARGV[1])`);
    expect(scriptForServer(APPEND, 7)).toBe(APPEND);
    expect(scriptForServer(APPEND, 0)).toBe(APPEND); // unknown version: as written
    const runner = new ScriptRunner({ client, serverMajorVersion: 6 }, APPEND);
    expect(await runner.run(['list'], ['x'])).toBe(1);
  });

  it("rejects with Redis's error when the script fails, and lets later calls run", async () => {
    const runner = new ScriptRunner({ client, serverMajorVersion: 7 }, APPEND);
    await admin.set('list', 'a string');
    await expect(runner.run(['list'], ['x'])).rejects.toThrow(/WRONGTYPE/);
    await admin.del('list');
    expect(await runner.run(['list'], ['y'])).toBe(1);
  });
});
