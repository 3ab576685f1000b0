import { jest } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  Dispatch,
  DispatcherService,
  Message,
  MesaConfigurationError,
  MesaConnectionError,
  MesaModule,
  type MesaModuleOptions,
  getMesaRedisConnectionToken,
  MesaRedisConnection,
} from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';

const PASSWORD = 's3cret-Pa55';

describe('MesaModule: options, connections and bootstrap', () => {
  let redis: RedisServer;
  let secured: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    secured = await RedisServer.start(['--requirepass', PASSWORD]);
  });
  afterAll(async () => {
    await redis.stop();
    await secured.stop();
  });
  const boot = (options: unknown, logger?: RecordingLogger) => createMesaModule(options as MesaModuleOptions, { logger });
  const published = async (dispatcher: DispatcherService) =>
    (await dispatcher.dispatch(new Message(0, {}, 'PING'), ['someone'])).recipients;

  it.each([
    ['url', () => ({ url: redis.url })],
    ['redis as ioredis options', () => ({ redis: { host: '127.0.0.1', port: redis.port } })],
    ['redis as a URL string (Mesa Dispatcher style)', () => ({ redis: redis.url })],
    ['redis as constructor arguments (Mesa Dispatcher style)', () => ({ redis: [redis.port, '127.0.0.1'] })],
    ['a password in the url', () => ({ url: `redis://:${PASSWORD}@127.0.0.1:${secured.port}` })],
    ['a password in ioredis options, with a db', () => ({ redis: { port: secured.port, password: PASSWORD, db: 3 } })],
  ])('forRoot connects with %s', async (_name, options) => {
    const { moduleRef, dispatcher } = await boot(options());
    expect(await published(dispatcher)).toEqual(['someone']);
    await moduleRef.close();
  });

  it('forRootAsync: useFactory with imports and inject', async () => {
    @Injectable()
    class AppConfig {
      readonly redisUrl = redis.url;
    }
    @Module({ providers: [AppConfig], exports: [AppConfig] })
    class ConfigModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaModule.forRootAsync({
          imports: [ConfigModule],
          inject: [AppConfig],
          useFactory: async (config: AppConfig) => ({ url: config.redisUrl, namespace: 'async' }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    expect(await published(moduleRef.get(DispatcherService))).toEqual(['someone']);
    await moduleRef.close();
  });

  it('forRootAsync: useClass and useExisting', async () => {
    @Injectable()
    class MesaConfig {
      createMesaOptions(): MesaModuleOptions {
        return { url: redis.url, sync: { enabled: true } };
      }
    }
    @Module({ providers: [MesaConfig], exports: [MesaConfig] })
    class MesaConfigModule {}

    for (const asyncOptions of [{ useClass: MesaConfig }, { imports: [MesaConfigModule], useExisting: MesaConfig }]) {
      const moduleRef = await Test.createTestingModule({ imports: [MesaModule.forRootAsync(asyncOptions)] }).compile();
      await moduleRef.init();
      const result = await moduleRef.get(DispatcherService).dispatch(new Message(0, {}, 'X'), ['offline-user']);
      expect(result.storedFor).toEqual(['offline-user']);
      await moduleRef.close();
    }
  });

  it('is global by default: a feature module’s @Dispatch provider sees the service without importing it', async () => {
    @Injectable()
    class Notifier {
      @Dispatch('NOTE', { recipients: (_r: unknown, to: string) => [to] })
      notify(to: string) {
        return Promise.resolve({ to });
      }
    }
    @Module({ providers: [Notifier], exports: [Notifier] })
    class FeatureModule {}

    const { moduleRef } = await createMesaModule({ url: redis.url }, { imports: [FeatureModule] });
    await expect(moduleRef.get(Notifier).notify('u1')).resolves.toEqual({ to: 'u1' });
    await moduleRef.close();
  });

  it('isGlobal: false: only modules that import MesaModule see the service', async () => {
    @Injectable()
    class Notifier {
      @Dispatch('NOTE', { recipients: () => ['u1'] })
      notify() {
        return Promise.resolve(1);
      }
    }
    @Module({ providers: [Notifier] })
    class FeatureWithoutImport {}

    const opened: Array<Promise<MesaRedisConnection>> = [];
    const open = MesaRedisConnection.open;
    const spy = jest.spyOn(MesaRedisConnection, 'open').mockImplementation((options) => {
      opened.push(open.call(MesaRedisConnection, options));
      return opened.at(-1)!;
    });
    const failing = Test.createTestingModule({
      imports: [MesaModule.forRoot({ url: redis.url, isGlobal: false }), FeatureWithoutImport],
    }).compile();
    await expect(failing).rejects.toThrow(/DispatcherService/);
    spy.mockRestore();
    // a module that never finished compiling is never closed by Nest: close what it opened
    for (const connection of await Promise.all(opened)) await connection.close();

    const local = MesaModule.forRoot({ url: redis.url, isGlobal: false });
    @Module({ imports: [local], providers: [Notifier], exports: [Notifier] })
    class FeatureWithImport {}
    const moduleRef = await Test.createTestingModule({ imports: [FeatureWithImport] }).compile();
    await moduleRef.init();
    await expect(moduleRef.get(Notifier).notify()).resolves.toBe(1);
    await moduleRef.close();
  });

  it.each([
    [undefined, /options must be an object/],
    [{}, /no Redis connection given: pass url/],
    [{ url: 'http://localhost:6379' }, /url has the unknown scheme 'http:'; use redis:\/\/ \(plain\) or rediss:\/\/ \(TLS\)/],
    [{ url: 42 }, /url must be a string/],
    [{ url: 'not a url' }, /url is not a valid URL/],
    [{ url: 'redis://localhost', client: {} }, /give only one of url, redis and client/],
    [{ redis: 6379 }, /redis must be ioredis options/],
    [{ client: { publish: 1 } }, /client must be an ioredis client/],
    [{ url: 'redis://x', namespace: '' }, /namespace must be a non-empty string/],
    [{ url: 'redis://x', sync: true }, /sync must be an object such as \{ enabled: true \}/],
    [{ url: 'redis://x', sync: { enabled: 'yes' } }, /sync.enabled must be true or false/],
    [{ url: 'redis://x', sync: { enabled: true, redeliveryInterval: 5 } }, /unknown option 'sync.redeliveryInterval'/],
    [{ url: 'redis://x', connectTimeout: -1 }, /connectTimeout must be a positive number/],
    [{ url: 'redis://x', dispatchErrors: 'ignore' }, /dispatchErrors must be 'throw' or 'log'/],
    [{ url: 'redis://x', dispatchTimeout: 0 }, /dispatchTimeout must be a positive number of milliseconds/],
    [{ url: 'redis://x', whenDisconnected: 'drop' }, /whenDisconnected must be 'queue' or 'fail'/],
    [{ url: 'redis://x', maxPayloadBytes: 1.5 }, /maxPayloadBytes must be a positive whole number of bytes/],
    [{ url: 'redis://x', namespce: 'typo' }, /unknown option 'namespce'/],
    [{ url: 'redis://x', idempotency: 300 }, /idempotency must be an object such as \{ window: 300000 \}/],
    [{ url: 'redis://x', idempotency: { window: 0 } }, /idempotency.window must be a positive whole number of milliseconds/],
    [{ url: 'redis://x', idempotency: { window: 1.5 } }, /idempotency.window must be a positive whole number/],
    [{ url: 'redis://x', idempotency: { ttl: 5 } }, /unknown option 'idempotency.ttl'/],
    [{ url: 'redis://x', retry: 3 }, /retry must be an object such as \{ attempts: 3, delay: 100 \}/],
    [{ url: 'redis://x', retry: {} }, /retry.attempts must be a whole number from 1 to 100: the tries in all, the first included/],
    [{ url: 'redis://x', retry: { attempts: 0 } }, /retry.attempts must be a whole number from 1 to 100/],
    [{ url: 'redis://x', retry: { attempts: 101 } }, /retry.attempts must be a whole number from 1 to 100/],
    [{ url: 'redis://x', retry: { attempts: 3, delay: -1 } }, /retry.delay must be a whole number of milliseconds, 0 or more/],
    [{ url: 'redis://x', retry: { attempts: 3, backoff: 2 } }, /unknown option 'retry.backoff'/],
  ])('refuses bad options at bootstrap: %j', async (options, message) => {
    const attempt = boot(options);
    await expect(attempt).rejects.toBeInstanceOf(MesaConfigurationError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('never echoes a URL (it may hold a password) in a configuration error', async () => {
    await expect(boot({ url: `http://user:${PASSWORD}@localhost` })).rejects.toThrow(/^MesaModule: url has the unknown scheme/);
    await expect(boot({ url: `http://user:${PASSWORD}@localhost` })).rejects.not.toThrow(PASSWORD);
  });

  it('fails bootstrap against an unreachable Redis within connectTimeout, saying where, without the password', async () => {
    const port = await freePort();
    const logger = new RecordingLogger();
    const started = Date.now();

    const attempt = boot({ url: `redis://admin:${PASSWORD}@127.0.0.1:${port}/2`, connectTimeout: 600 }, logger);

    await expect(attempt).rejects.toBeInstanceOf(MesaConnectionError);
    const error: Error = await attempt.catch((e) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toContain(`Could not connect to Redis at redis://127.0.0.1:${port}/2 within 600 ms (connect ECONNREFUSED`);
    expect(`${error.message}\n${error.stack}\n${logger.text()}`).not.toContain(PASSWORD);
  });

  it('a wrong password fails bootstrap with a clear error that does not contain it', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const logger = new RecordingLogger();

    const error: Error = await boot({ redis: { port: secured.port, password: wrong }, connectTimeout: 1_000 }, logger).catch((e) => e);

    expect(error).toBeInstanceOf(MesaConnectionError);
    expect(error.message).toMatch(new RegExp(`Redis at redis://localhost:${secured.port}.*(WRONGPASS|invalid)`));
    expect(`${error.message}\n${error.stack}\n${logger.text()}`).not.toContain(wrong);
    expect(`${error.message}\n${logger.text()}`).not.toContain(PASSWORD);
  });

  it('uses an application-owned client as it is and never closes it', async () => {
    const client = new Redis(redis.url);
    const { moduleRef, dispatcher } = await boot({ client });
    expect(moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken()).owned).toBe(false);
    expect(await published(dispatcher)).toEqual(['someone']);

    await moduleRef.close();

    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('closes the connection it opened when the application closes', async () => {
    const { moduleRef } = await boot({ url: redis.url });
    const connection = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken());
    expect(connection.client.status).toBe('ready');

    await moduleRef.close();

    expect(connection.client.status).toBe('end');
  });
});
