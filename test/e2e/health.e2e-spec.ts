import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DispatcherService, Message, MesaConfigurationError, MesaModule } from '../../lib/index.js';
import { MesaHealthIndicator, MesaHealthModule } from '../../lib/health/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { HEALTH_TIMEOUT, HealthTestModule } from '../support/health-app.js';
import { RedisServer } from '../support/redis-server.js';

const PASSWORD = 'h3alth-s3cret-Pw';
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('MesaHealthIndicator (terminus) against a real Redis', () => {
  let redis: RedisServer;
  let app: INestApplication;
  let baseUrl: string;
  let indicator: MesaHealthIndicator;
  const logger = new RecordingLogger();
  const getHealth = async () => {
    const response = await fetch(`${baseUrl}/health`);
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    redis = await RedisServer.start(['--requirepass', PASSWORD]);
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    const moduleRef = await Test.createTestingModule({
      imports: [MesaModule.forRoot({ url, namespace: 'hc', sync: { enabled: true } }), HealthTestModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    indicator = app.get(MesaHealthIndicator);
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('is up through terminus, with namespace, target without password, ping latency and users with stored messages', async () => {
    const db = redis.client();
    await db.hset('undelivered_messages_hc', 'u1', '[]', 'u2', '[]');
    await db.quit();
    await app.get(DispatcherService).dispatch(new Message(0, { n: 1 }, 'STORED'), ['u3']);

    const { status, text } = await getHealth();

    expect(status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({
      status: 'ok',
      info: {
        mesa: {
          status: 'up',
          namespace: 'hc',
          target: `redis://127.0.0.1:${redis.port}`,
          pingMs: expect.any(Number),
          sync: true,
          usersWithStoredMessages: 3,
        },
      },
    });
    expect(text).not.toContain(PASSWORD);
  });

  it('refuses an empty key or a bad timeout', async () => {
    await expect(indicator.isHealthy('')).rejects.toThrow(MesaConfigurationError);
    await expect(indicator.isHealthy('mesa', { timeout: 0 })).rejects.toThrow(/timeout must be a positive number/);
  });

  it('is down within the timeout while Redis does not answer (CLIENT PAUSE), then up again', async () => {
    const admin = redis.client();
    await admin.client('PAUSE', 1_000, 'ALL');

    const started = Date.now();
    const result = await indicator.isHealthy('redis', { timeout: HEALTH_TIMEOUT });

    expect(Date.now() - started).toBeLessThan(HEALTH_TIMEOUT + 250);
    expect(result).toEqual({
      redis: {
        status: 'down',
        namespace: 'hc',
        target: `redis://127.0.0.1:${redis.port}`,
        queue: { waiting: 0, unanswered: 0, fillPercent: 0 },
        message: expect.stringContaining(`did not answer PING within ${HEALTH_TIMEOUT} ms`),
      },
    });
    await eventually(
      async () => (await indicator.isHealthy('redis', { timeout: HEALTH_TIMEOUT })).redis.status === 'up',
      5_000,
      'up after the pause',
    );
    await admin.quit();
  });

  it('is down, quickly and clearly, once Redis is killed; never shows the password', async () => {
    await redis.stop();

    const started = Date.now();
    const { status, text } = await getHealth();
    const direct = await indicator.isHealthy();

    expect(Date.now() - started).toBeLessThan(2 * HEALTH_TIMEOUT + 500);
    expect(status).toBe(503);
    const body = JSON.parse(text);
    expect(body.status).toBe('error');
    expect(body.error.mesa).toEqual({
      status: 'down',
      namespace: 'hc',
      target: `redis://127.0.0.1:${redis.port}`,
      queue: { waiting: 0, unanswered: 0, fillPercent: 0 },
      message: expect.stringMatching(
        new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port} (is not connected|did not answer PING|failed)`),
      ),
    });
    expect(direct.mesa.status).toBe('down');
    for (const output of [text, JSON.stringify(direct), logger.text()]) expect(output).not.toContain(PASSWORD);
  });

  it('is up again once Redis is back', async () => {
    await redis.restart();
    await eventually(async () => (await getHealth()).status === 200, 10_000, 'health 200 after restart');
  });
});

describe('MesaHealthIndicator without sync, through MesaHealthModule alone', () => {
  it('reports sync off and no stored-message count', async () => {
    const redis = await RedisServer.start();
    const { moduleRef } = await createMesaModule({ url: redis.url }, { imports: [MesaHealthModule] });

    const result = await moduleRef.get(MesaHealthIndicator).isHealthy('cache');

    expect(result).toEqual({
      cache: {
        status: 'up',
        namespace: null,
        target: redis.url,
        queue: { waiting: 0, unanswered: 0, fillPercent: 0 },
        pingMs: expect.any(Number),
        sync: false,
      },
    });
    await moduleRef.close();
    await redis.stop();
  });
});

describe('the nestjs-mesa/health entry point (built package)', () => {
  it('loads with import and require(), and the main entry never loads @nestjs/terminus', async () => {
    const run = promisify(execFile);
    const probe = `import('nestjs-mesa/health').then((m) => console.log(typeof m.MesaHealthIndicator, typeof require('nestjs-mesa/health').MesaHealthModule))`;
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: root });
    expect(stdout.trim()).toBe('function function');

    const seen = new Set<string>();
    const imports: string[] = [];
    const walk = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, specifier] of (await readFile(file, 'utf8')).matchAll(/(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (specifier.startsWith('.')) await walk(resolve(dirname(file), specifier));
        else imports.push(specifier);
      }
    };
    await walk(join(root, 'dist/index.js'));
    expect(seen.size).toBeGreaterThan(10);
    const esmFiles = seen.size;
    await walk(join(root, 'dist/cjs/index.js')); // the CommonJS build's main entry, which require() gets in jest
    expect(seen.size).toBeGreaterThan(esmFiles + 10);
    expect(imports.filter((specifier) => specifier.includes('terminus'))).toEqual([]);
  });
});
