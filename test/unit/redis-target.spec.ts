import { describeRedisTarget, redactSecrets } from '../../lib/redis/redis-target.js';

describe('describeRedisTarget: where a connection goes, never with its password', () => {
  it.each<[object, string]>([
    [{ url: 'redis://user:pw@cache.internal:6380/2' }, 'redis://cache.internal:6380/2'],
    [{ url: 'rediss://:pw@cache.internal' }, 'rediss://cache.internal:6379'],
    [{ redis: 'redis://:pw@h:1' }, 'redis://h:1'],
    [{ redis: { host: 'h', port: 2, password: 'pw', db: 4 } }, 'redis://h:2/4'],
    [{ redis: { host: 'h', tls: {} } }, 'rediss://h:6379'],
    [{ redis: { path: '/run/redis.sock' } }, 'unix socket /run/redis.sock'],
    [
      { redis: { sentinels: [{ host: 's1', port: 26379 }, { host: 's2' }], name: 'main', password: 'pw' } },
      'sentinel master "main" via s1:26379, s2:26379',
    ],
    [{ redis: [6390, 'h2', { password: 'pw' }] }, 'redis://h2:6390'],
  ])('%j → %s', (options, expected) => {
    expect(describeRedisTarget(options)).toBe(expected);
  });
});

describe('redactSecrets', () => {
  it('removes passwords from URLs (raw and percent-decoded), options and sentinel options', () => {
    const text = 'failed: p@ss/word p%40ss%2Fword s3cret sentinel-pw';
    expect(redactSecrets(text, { url: 'redis://:p%40ss%2Fword@h' })).toBe('failed: *** *** s3cret sentinel-pw');
    expect(redactSecrets(text, { redis: { password: 's3cret', sentinelPassword: 'sentinel-pw' } })).toBe(
      'failed: p@ss/word p%40ss%2Fword *** ***',
    );
  });
});
