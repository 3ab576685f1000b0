import type { LoggerService, Provider } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import type { DispatcherService, MesaModuleForRootOptions } from '../../lib/index.js';
import { ChannelSpy } from './channel-spy.js';
import { createMesaModule, eventually } from './mesa-app.js';
import { MesaCluster } from './mesa-cluster.js';
import { MesaUser } from './mesa-user.js';
import { RedisServer } from './redis-server.js';

/** What {@link useMesaStack} starts. */
export interface MesaStackOptions {
  /** Mesa server replicas on the Redis (default 2). */
  replicas?: number;
  /** Mesa servers and the module both store messages for offline users (default false). */
  sync?: boolean;
  /** More MesaModule.forRoot options (`url` and `namespace` are filled in, and `sync` when `sync` is set). */
  module?: Omit<MesaModuleForRootOptions, 'url'>;
  /** Mesa's namespace, for the servers and the module alike (keys and channel get `_<namespace>`). */
  namespace?: string;
  /** Providers of the testing module, beside MesaModule. */
  providers?: Provider[];
  /** The testing module's logger (Nest's default when left out). */
  logger?: LoggerService;
}

/** The Redis names Mesa servers use, spelled out as Mesa's protocol gives them (not taken from the library). */
export interface MesaStackNames {
  channel: string;
  connectedClients: string;
  undeliveredMessages: string;
}

/**
 * The whole path most e2e specs test: a real redis-server, real Mesa replicas on it, `MesaModule.forRoot` in a
 * Nest testing module, a {@link ChannelSpy} on the channel, and the Mesa users a test connects.
 */
export class MesaStack {
  redis!: RedisServer;
  mesa!: MesaCluster;
  moduleRef!: TestingModule;
  dispatcher!: DispatcherService;
  spy!: ChannelSpy;
  /** A plain client of the Redis, to read what Mesa and the module stored. */
  db!: Redis;
  readonly names: MesaStackNames;
  private readonly users: MesaUser[] = [];

  constructor(private readonly options: MesaStackOptions) {
    const suffix = options.namespace ? `_${options.namespace}` : '';
    this.names = {
      channel: `ws${suffix}`,
      connectedClients: `connected_clients${suffix}`,
      undeliveredMessages: `undelivered_messages${suffix}`,
    };
  }

  async start(): Promise<void> {
    const sync = this.options.sync ?? false;
    this.redis = await RedisServer.start();
    this.db = this.redis.client();
    const { namespace, replicas = 2, providers = [], logger } = this.options;
    this.mesa = await MesaCluster.start({ redisUrl: this.redis.url, replicas, namespace, sync });
    const moduleOptions = { ...this.options.module, url: this.redis.url, namespace, ...(sync ? { sync: { enabled: true } } : {}) };
    ({ moduleRef: this.moduleRef, dispatcher: this.dispatcher } = await createMesaModule(moduleOptions, { providers, logger }));
    this.spy = await ChannelSpy.listen(this.redis.url, this.names.channel);
  }

  /** Connects Mesa's own client to replica `replica` as `id`; {@link disconnectUsers} closes it. */
  async connect(replica: number, id: string, options?: { authenticate?: boolean; shouldSync?: boolean }): Promise<MesaUser> {
    const user = await MesaUser.connect(this.mesa.url(replica), id, options);
    this.users.push(user);
    return user;
  }

  /** Waits until Mesa has marked every one of `ids` online (its SADD to `connected_clients`). */
  async online(...ids: string[]): Promise<void> {
    await this.marked(ids, 1, `${ids} online`);
  }

  /** Waits until Mesa has marked every one of `ids` offline (its SREM when their last socket closed). */
  async offline(...ids: string[]): Promise<void> {
    await this.marked(ids, 0, `${ids} offline`);
  }

  /**
   * Closes the users {@link connect} opened and forgets what the spy saw. With sync, it waits for Mesa's SREMs of
   * their ids, or one could remove the same id connected again by the next test.
   */
  async disconnectUsers(): Promise<void> {
    const closed = this.users.splice(0);
    closed.forEach((user) => user.close());
    await this.spy.clear();
    if (this.options.sync && closed.length > 0) await this.offline(...new Set(closed.map((user) => user.id)));
  }

  /** Closes everything it started, in reverse. */
  async close(): Promise<void> {
    this.users.splice(0).forEach((user) => user.close());
    await this.spy?.close();
    await this.moduleRef?.close();
    await this.mesa?.stop();
    this.db?.disconnect();
    await this.redis?.stop();
  }

  /** Waits until Mesa's `connected_clients` holds (`1`) or lacks (`0`) every one of `ids`. */
  private async marked(ids: string[], flag: 0 | 1, what: string): Promise<void> {
    await eventually(
      async () => (await this.db.smismember(this.names.connectedClients, ...ids)).every((member) => member === flag),
      5_000,
      what,
    );
  }
}

/**
 * A {@link MesaStack} for the enclosing `describe`: started before its tests, its users closed after each test,
 * closed after them all.
 */
export function useMesaStack(options: MesaStackOptions = {}): MesaStack {
  const stack = new MesaStack(options);
  beforeAll(() => stack.start());
  afterEach(() => stack.disconnectUsers());
  afterAll(() => stack.close());
  return stack;
}
