import { SampleConfig, SampleConfigError } from './sample-config.js';

describe('SampleConfig.fromEnv', () => {
  it('uses the documented defaults and a random secret when the environment says nothing', () => {
    const config = SampleConfig.fromEnv({});
    expect(config.values()).toEqual({
      host: '127.0.0.1',
      port: 3000,
      mesaPorts: [4000],
      redisUrl: 'redis://127.0.0.1:6379',
      namespace: 'nestjs-mesa-sample',
      secret: expect.stringMatching(/^[\w-]{43}$/),
      heartbeatMs: 10_000,
      sessionTtlSeconds: 43_200,
    });
    expect(config.secretIsRandom).toBe(true);
    expect(SampleConfig.fromEnv({}).secret).not.toBe(config.secret);
  });

  it('reads the environment, with MESA_REPLICAS on consecutive ports from MESA_PORT', () => {
    const config = SampleConfig.fromEnv({
      PORT: '8080',
      MESA_PORT: '9000',
      MESA_REPLICAS: '3',
      REDIS_URL: 'redis://redis.internal:6380/2',
      SAMPLE_SECRET: 'a-long-enough-secret',
      MESA_HEARTBEAT_MS: '0',
      MESA_NAMESPACE: 'demo',
      HOST: '0.0.0.0',
    });
    expect(config).toMatchObject({
      port: 8080,
      mesaPorts: [9000, 9001, 9002],
      redisUrl: 'redis://redis.internal:6380/2',
      secret: 'a-long-enough-secret',
      secretIsRandom: false,
      heartbeatMs: 0,
      namespace: 'demo',
      host: '0.0.0.0',
    });
  });

  it('lets overrides win over the environment', () => {
    const config = SampleConfig.fromEnv(
      { PORT: '8080', REDIS_URL: 'redis://a:1' },
      { port: 0, mesaPorts: [5001, 6002], redisUrl: 'redis://b:2' },
    );
    expect([config.port, config.mesaPorts, config.redisUrl]).toEqual([0, [5001, 6002], 'redis://b:2']);
  });

  it('feeds MesaModule with its Redis, its namespace and sync on', () => {
    expect(SampleConfig.fromEnv({ REDIS_URL: 'redis://r:1', MESA_NAMESPACE: 'x' }).mesaModuleOptions()).toEqual({
      url: 'redis://r:1',
      namespace: 'x',
      sync: { enabled: true },
      connectTimeout: 5_000,
    });
  });

  it.each([
    [{ PORT: 'http' }, 'PORT must be a whole number; got "http".'],
    [{ PORT: '70000' }, 'PORT must be a TCP port (0-65535); got 70000.'],
    [{ MESA_PORT: '0' }, 'MESA_PORT must be a TCP port (1-65535); got 0.'],
    [{ MESA_REPLICAS: '0' }, 'MESA_REPLICAS must be between 1 and 8; got 0.'],
    [{ SAMPLE_SECRET: 'short' }, 'SAMPLE_SECRET must be at least 16 characters long (or unset for a random one).'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must start with redis:// or rediss://; got "localhost:6379".'],
    [{ MESA_HEARTBEAT_MS: '-5' }, 'MESA_HEARTBEAT_MS must be a whole number; got "-5".'],
  ])('refuses %j', (env, message) => {
    expect(() => SampleConfig.fromEnv(env)).toThrow(new SampleConfigError(message));
  });
});
