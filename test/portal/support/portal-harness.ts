import { createRequire } from 'node:module';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { MesaModule, MesaPortalService, type MesaModuleForRootOptions, type MesaPortalOptions } from '../../../lib/index.js';
import { MesaCluster } from '../../support/mesa-cluster.js';
import { Client, type MesaClient } from '../../support/mesa-user.js';
import { RedisServer } from '../../support/redis-server.js';

const require = createRequire(import.meta.url);
const { Message } = require('@cryb/mesa') as { Message: new (op: number, d: unknown, t?: string) => object };

/** A Nest HTTP application with a portal, listening on a free port (the portal joins once it listens). */
export interface PortalApp {
  app: INestApplication;
  portal: MesaPortalService;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

/** Starts a listening Nest application with `MesaModule.forRoot({ url, portal })` and the given providers. */
export async function startPortalApp(
  redisUrl: string,
  portal: Partial<MesaPortalOptions>,
  extra: {
    providers?: any[];
    controllers?: Type[];
    imports?: Array<Type | DynamicModule>;
    logger?: LoggerService | false;
    options?: Partial<MesaModuleForRootOptions>;
  } = {},
): Promise<PortalApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [MesaModule.forRoot({ url: redisUrl, ...extra.options, portal: { enabled: true, ...portal } }), ...(extra.imports ?? [])],
    providers: extra.providers ?? [],
    controllers: extra.controllers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: extra.logger ?? false });
  await app.listen(0, '127.0.0.1');
  return { app, portal: app.get(MesaPortalService), get: (type) => app.get(type), close: () => app.close() };
}

/** Mesa's own Node client, connected and authenticated, that sends frames over its WebSocket. */
export class PortalSender {
  private constructor(
    readonly id: string,
    private readonly client: MesaClient & { send(message: object): void },
  ) {}

  static async connect(url: string, id: string, authenticate = true): Promise<PortalSender> {
    const client = new Client(url, { autoConnect: false }) as MesaClient & { send(message: object): void };
    client.on('error', () => undefined);
    await client.connect();
    if (authenticate) await client.authenticate({ id, token: `token-${id}` });
    return new PortalSender(id, client);
  }

  /** Sends `{op, d, t}` as the client application would. */
  send(type: string | undefined, data: unknown, op = 0): void {
    this.client.send(new Message(op, data, type));
  }

  /** Calls `listener` with the close code when the server closes the socket. */
  onClose(listener: (code: number) => void): void {
    this.client.on('disconnected', listener);
  }

  close(): void {
    if (this.client.ws.readyState === 1) this.client.disconnect(1000);
  }
}

/** Members of the portal pool SET (no namespace unless given). */
export async function poolMembers(db: Redis, namespace?: string): Promise<string[]> {
  return (await db.smembers(namespace ? `available_portals_pool_${namespace}` : 'available_portals_pool')).sort();
}

/** Records the `{"id","ready"}` announcements published on the pool channel. */
export class PoolAnnouncements {
  readonly seen: Array<{ id: string; ready: boolean }> = [];
  private constructor(private readonly subscriber: Redis) {}

  static async listen(redisUrl: string, channel = 'available_portals_pool'): Promise<PoolAnnouncements> {
    const subscriber = new Redis(redisUrl);
    const announcements = new PoolAnnouncements(subscriber);
    subscriber.on('message', (_channel: string, raw: string) => announcements.seen.push(JSON.parse(raw)));
    await subscriber.subscribe(channel);
    return announcements;
  }

  of(id: string, ready: boolean): number {
    return this.seen.filter((a) => a.id === id && a.ready === ready).length;
  }

  async close(): Promise<void> {
    await this.subscriber.quit();
  }
}

/** Sleeps `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `replicas` Mesa servers have their three Redis connections up (a replica reads the pool
 * SET once, when it connects, so a test that seeds the SET must wait for that).
 */
export async function mesaConnected(redis: { client(): Redis }, replicas: number): Promise<void> {
  const db = redis.client();
  try {
    const deadline = Date.now() + 10_000;
    while (((await db.client('LIST')) as string).trim().split('\n').length < replicas * 3 + 1) {
      if (Date.now() > deadline) throw new Error('the Mesa replicas did not connect to Redis');
      await sleep(20);
    }
    await sleep(100);
  } finally {
    db.disconnect();
  }
}

/** The servers a Portal spec shares: a redis-server and Mesa replicas started with `portal: true`. */
export interface PortalServers {
  redis: RedisServer;
  mesa: MesaCluster;
}

/**
 * Starts a redis-server and `replicas` Portal-enabled Mesa servers before the enclosing `describe`'s tests (once
 * every replica is connected to Redis) and stops them after; the fields are filled in by then.
 */
export function usePortalServers(replicas = 2): PortalServers {
  const servers = {} as PortalServers;
  beforeAll(async () => {
    servers.redis = await RedisServer.start();
    servers.mesa = await MesaCluster.start({ redisUrl: servers.redis.url, replicas, portal: true });
    await mesaConnected(servers.redis, replicas);
  });
  afterAll(async () => {
    await servers.mesa?.stop();
    await servers.redis?.stop();
  });
  return servers;
}
