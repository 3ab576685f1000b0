import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  MESA_REDIS_CONNECTION,
  Message,
  MesaConnectionError,
  type MesaModuleForRootOptions,
  type MesaRedisConnection,
} from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { Recorder } from './support/recorder.js';
import { makeCertificates, TlsRedis, type Certificates } from './support/tls-redis.js';
import { verbose } from '../support/verbose.js';

/*
 * Redis over TLS only (Debian's redis-server 7.0 is built with TLS), with certificates made by
 * Debian's openssl CLI: a test CA and a server certificate it signed (names localhost and
 * 127.0.0.1), and a self-signed one.
 */
const CONNECT_TIMEOUT = 1_500;

describe('TLS (rediss)', () => {
  let certs: Certificates;
  let redis: TlsRedis;
  let selfSigned: TlsRedis;

  beforeAll(async () => {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    certs = makeCertificates();
    redis = await TlsRedis.start(certs);
    selfSigned = await TlsRedis.start(certs, { selfSigned: true });
  });
  afterAll(async () => {
    await redis?.stop();
    await selfSigned?.stop();
    certs?.remove();
  });

  /** Bootstraps with `options`; returns the error and how long it took to fail. */
  const failedBootstrap = async (options: MesaModuleForRootOptions) => {
    const startedAt = performance.now();
    const error = await createMesaModule({ connectTimeout: CONNECT_TIMEOUT, ...options }, { logger: false }).then(
      async ({ moduleRef }) => {
        await moduleRef.close();
        throw new Error('bootstrap succeeded');
      },
      (e: Error) => e,
    );
    verbose(`bootstrap failed after ${Math.round(performance.now() - startedAt)} ms: ${error.name}: ${error.message}`);
    return { error, tookMs: performance.now() - startedAt };
  };

  it('connects with redis: { host, port, tls: { ca, servername } } and dispatches through TLS', async () => {
    const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port, tls: { ca: certs.ca, servername: 'localhost' } });
    const { moduleRef, dispatcher } = await createMesaModule({
      redis: { host: '127.0.0.1', port: redis.port, tls: { ca: certs.ca, servername: 'localhost' } },
      sync: { enabled: true },
    });
    const db = redis.client(certs);
    try {
      expect(moduleRef.get<MesaRedisConnection>(MESA_REDIS_CONNECTION).target).toBe(`rediss://127.0.0.1:${redis.port}`);
      await db.sadd('connected_clients', 'online');

      const results = await Promise.all(
        Array.from({ length: 100 }, (_, n) => dispatcher.dispatch(new Message(0, { n }, 'OVER_TLS'), ['online', 'offline'])),
      );

      expect(results.every((r) => r.publishedTo[0] === 'online' && r.storedFor[0] === 'offline' && r.receivers === 1)).toBe(true);
      await recorder.waitForAll(Array.from({ length: 100 }, (_, n) => n));
      expect(recorder.numbers()).toEqual(Array.from({ length: 100 }, (_, n) => n));
      expect(JSON.parse((await db.hget('undelivered_messages', 'offline'))!)).toHaveLength(100);
      expect(await db.client('LIST')).toMatch(/name=nestjs-mesa/);
    } finally {
      await moduleRef.close();
      recorder.close();
      db.disconnect();
    }
  });

  it("url: 'rediss://…' to a server whose CA is not trusted fails bootstrap within connectTimeout, naming the address and the certificate problem", async () => {
    const { error, tookMs } = await failedBootstrap({ url: `rediss://127.0.0.1:${redis.port}` });

    expect(error).toBeInstanceOf(MesaConnectionError);
    expect(error.message).toContain(`rediss://127.0.0.1:${redis.port}`);
    expect(error.message).toMatch(/unable to verify the first certificate|self-signed certificate/);
    expect(tookMs).toBeLessThan(CONNECT_TIMEOUT + 1_000);
  });

  it("url: 'rediss://…' to a self-signed server fails bootstrap saying 'self-signed certificate'", async () => {
    const { error, tookMs } = await failedBootstrap({ url: `rediss://127.0.0.1:${selfSigned.port}` });

    expect(error).toBeInstanceOf(MesaConnectionError);
    expect(error.message).toContain(`rediss://127.0.0.1:${selfSigned.port}`);
    expect(error.message).toMatch(/self-signed certificate/);
    expect(tookMs).toBeLessThan(CONNECT_TIMEOUT + 1_000);
  });

  it('a trusted certificate for another name fails bootstrap saying the name does not match', async () => {
    const { error } = await failedBootstrap({
      redis: { host: '127.0.0.1', port: redis.port, tls: { ca: certs.ca, servername: 'redis.example.org' } },
    });

    expect(error).toBeInstanceOf(MesaConnectionError);
    expect(error.message).toContain(`rediss://127.0.0.1:${redis.port}`);
    expect(error.message).toMatch(/does not match certificate's altnames/);
  });

  it("plain 'redis://' to a TLS-only port fails bootstrap within connectTimeout", async () => {
    const { error, tookMs } = await failedBootstrap({ url: `redis://127.0.0.1:${redis.port}` });

    expect(error).toBeInstanceOf(MesaConnectionError);
    expect(error.message).toContain(`redis://127.0.0.1:${redis.port}`);
    expect(tookMs).toBeLessThan(CONNECT_TIMEOUT + 1_000);
  });
});
