import { Controller, Get, HttpCode, Injectable, type INestApplication, Module, Param, Post } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  Dispatch,
  DispatcherService,
  getDispatcherToken,
  getMesaRedisConnectionToken,
  InjectDispatcher,
  InjectMesaBacklog,
  InjectMesaPresence,
  Message,
  MesaBacklog,
  MesaConnectionError,
  MesaModule,
  MesaPresence,
  type MesaRedisConnection,
} from '../../lib/index.js';
import { InjectMesaHealthIndicator, MesaHealthIndicator, MesaHealthModule } from '../../lib/health/index.js';
import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { freePort } from '../support/free-port.js';
import { RedisServer } from '../support/redis-server.js';
import { resolveMesaOptions } from '../../lib/options/resolved-mesa-options.js';
import { MesaPublisher } from '../../lib/publishing/mesa-publisher.js';
import { MesaConnectionRegistry } from '../../lib/redis/mesa-connection-registry.js';

// Four registrations in one application: the default one (no namespace) and 'chat' and 'news' (namespaces
// 'chat' and 'news') on Redis A, and 'remote' (namespace 'chat' too) on Redis B, each with its own real Mesa
// server. The same user id is online on all four: whatever goes through one registration must reach only
// that namespace on that Redis.

@Injectable()
class Newsroom {
  constructor(
    @InjectDispatcher('chat') readonly chat: DispatcherService,
    @InjectDispatcher('news') readonly news: DispatcherService,
    @InjectDispatcher('remote') readonly remote: DispatcherService,
    readonly main: DispatcherService,
    @InjectMesaPresence('chat') readonly chatPresence: MesaPresence,
    @InjectMesaPresence('news') readonly newsPresence: MesaPresence,
    @InjectMesaPresence('remote') readonly remotePresence: MesaPresence,
    readonly mainPresence: MesaPresence,
    @InjectMesaBacklog('chat') readonly chatBacklog: MesaBacklog,
    @InjectMesaBacklog('news') readonly newsBacklog: MesaBacklog,
    @InjectMesaBacklog('remote') readonly remoteBacklog: MesaBacklog,
    readonly mainBacklog: MesaBacklog,
  ) {}

  @Dispatch('HEADLINE', { dispatcher: 'news', broadcast: true })
  headline(text: string) {
    return { text };
  }

  @Dispatch('NOTICE', { recipients: () => ['alice'] })
  notice(text: string) {
    return { text };
  }
}

@Controller('rooms')
class RoomsController {
  @Post(':room')
  @HttpCode(201)
  @Dispatch('ROOM_MESSAGE', { dispatcher: 'chat', recipients: () => ['alice', 'bob'] })
  post(@Param('room') room: string) {
    return { room };
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @InjectMesaHealthIndicator('remote') private readonly remote: MesaHealthIndicator,
    private readonly main: MesaHealthIndicator,
  ) {}

  @Get()
  check() {
    return this.health.check([() => this.remote.isHealthy('remote'), () => this.main.isHealthy('main')]);
  }
}

@Module({ imports: [MesaHealthModule, MesaHealthModule.forFeature('remote')], controllers: [HealthController] })
class HealthModule {}

const CONFIG = Symbol('config');
@Module({ providers: [{ provide: CONFIG, useValue: { newsNamespace: 'news' } }], exports: [CONFIG] })
class ConfigModule {}

describe('named MesaModule registrations: several namespaces and Redis servers in one application', () => {
  let redisA: RedisServer;
  let redisB: RedisServer;
  const clusters: Record<'main' | 'chat' | 'news' | 'remote', MesaCluster> = {} as never;
  let app: INestApplication;
  let baseUrl: string;
  let room: Newsroom;
  let dbA: Redis;
  let dbB: Redis;
  const users: MesaUser[] = [];
  const alices: Record<string, MesaUser> = {};
  const connect = async (cluster: MesaCluster, id: string) => {
    const user = await MesaUser.connect(cluster.url(), id);
    users.push(user);
    return user;
  };

  beforeAll(async () => {
    [redisA, redisB] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    clusters.main = await MesaCluster.start({ redisUrl: redisA.url, replicas: 1, sync: true });
    clusters.chat = await MesaCluster.start({ redisUrl: redisA.url, replicas: 1, namespace: 'chat', sync: true });
    clusters.news = await MesaCluster.start({ redisUrl: redisA.url, replicas: 1, namespace: 'news', sync: true });
    clusters.remote = await MesaCluster.start({ redisUrl: redisB.url, replicas: 1, namespace: 'chat', sync: true });
    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ url: redisA.url, sync: { enabled: true } }),
        MesaModule.forRoot({ name: 'chat', url: redisA.url, namespace: 'chat', sync: { enabled: true } }),
        MesaModule.forRootAsync({
          name: 'news',
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { newsNamespace: string }) => ({
            url: redisA.url,
            namespace: config.newsNamespace,
            sync: { enabled: true },
          }),
        }),
        MesaModule.forRoot({ name: 'remote', url: redisB.url, namespace: 'chat', sync: { enabled: true } }),
        HealthModule,
      ],
      providers: [Newsroom],
      controllers: [RoomsController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    room = app.get(Newsroom);
    dbA = redisA.client();
    dbB = redisB.client();
    for (const name of ['main', 'chat', 'news', 'remote'] as const) alices[name] = await connect(clusters[name], 'alice');
    await connect(clusters.chat, 'carol');
    await connect(clusters.remote, 'dave');
    await connect(clusters.remote, 'erin');
    await eventually(
      async () => (await room.remotePresence.count()) === 3 && (await room.chatPresence.count()) === 2,
      10_000,
      'users online',
    );
  }, 90_000);

  afterAll(async () => {
    users.splice(0).forEach((user) => user.close());
    dbA?.disconnect();
    dbB?.disconnect();
    await app?.close();
    await Promise.all(Object.values(clusters).map((cluster) => cluster.stop()));
    await Promise.all([redisA?.stop(), redisB?.stop()]);
  });

  /** Waits until `receiver` got one message of `type`, then lets the others a moment to (wrongly) get theirs. */
  const onlyReaches = async (type: string, receiver: 'main' | 'chat' | 'news' | 'remote') => {
    await alices[receiver]!.waitFor((user) => user.of(type).length === 1, 5_000, type);
    await alices[receiver]!.quietFor(300);
    for (const [name, user] of Object.entries(alices)) expect([name, user.of(type).length]).toEqual([name, name === receiver ? 1 : 0]);
  };

  it('gives each name its own services, and the default registration the classes, as before', () => {
    const services = [room.chat, room.news, room.remote, room.main];
    expect(new Set(services).size).toBe(4);
    services.forEach((service) => expect(service).toBeInstanceOf(DispatcherService));
    expect(room.main).toBe(app.get(DispatcherService));
    expect(room.chat).toBe(app.get(getDispatcherToken('chat')));
    expect(new Set([room.chatPresence, room.newsPresence, room.remotePresence, room.mainPresence]).size).toBe(4);
    expect(new Set([room.chatBacklog, room.newsBacklog, room.remoteBacklog, room.mainBacklog]).size).toBe(4);
  });

  it('delivers a dispatch through each name to its own namespace on its own Redis only', async () => {
    await room.chat.dispatch(new Message(0, { n: 1 }, 'VIA_CHAT'), ['alice']);
    await onlyReaches('VIA_CHAT', 'chat');
    await room.news.dispatch(new Message(0, { n: 2 }, 'VIA_NEWS'), ['alice']);
    await onlyReaches('VIA_NEWS', 'news');
    await room.remote.broadcast(new Message(0, { n: 3 }, 'VIA_REMOTE'));
    await onlyReaches('VIA_REMOTE', 'remote');
    await room.main.dispatch(new Message(0, { n: 4 }, 'VIA_MAIN'), ['alice']);
    await onlyReaches('VIA_MAIN', 'main');
  });

  it('stores for offline users only under its own namespace on its own Redis, and its real Mesa server redelivers it', async () => {
    const result = await room.chat.dispatch(new Message(0, { n: 5 }, 'STORED'), ['bob', 'alice']);
    expect(result.storedFor).toEqual(['bob']);
    expect(await dbA.hexists('undelivered_messages_chat', 'bob')).toBe(1);
    expect(await dbA.hexists('undelivered_messages_news', 'bob')).toBe(0);
    expect(await dbA.hexists('undelivered_messages', 'bob')).toBe(0);
    expect(await dbB.hexists('undelivered_messages_chat', 'bob')).toBe(0);
    expect(await room.chatBacklog.count('bob')).toBe(1);
    expect((await room.chatBacklog.peek('bob')).map((message) => message.t)).toEqual(['STORED']);
    for (const other of [room.newsBacklog, room.remoteBacklog, room.mainBacklog]) expect(await other.count('bob')).toBe(0);

    const bob = await connect(clusters.chat, 'bob');
    await bob.waitFor((user) => user.of('STORED').length === 1, 5_000, 'the stored message');
    expect(bob.of('STORED')[0]!.d).toEqual({ n: 5 });
    await eventually(async () => (await room.chatBacklog.count('bob')) === 0, 5_000, "chat's backlog emptied by Mesa");
    bob.close();
    await eventually(async () => !(await room.chatPresence.isOnline('bob')), 5_000, 'bob offline');
  });

  it('answers presence of each name for its own namespace and Redis', async () => {
    expect(await room.chatPresence.count()).toBe(2);
    expect(await room.newsPresence.count()).toBe(1);
    expect(await room.remotePresence.count()).toBe(3);
    expect(await room.mainPresence.count()).toBe(1);
    expect(await room.chatPresence.online(['alice', 'carol', 'dave'])).toEqual(new Set(['alice', 'carol']));
    expect(await room.remotePresence.online(['alice', 'carol', 'dave'])).toEqual(new Set(['alice', 'dave']));
    expect(await room.newsPresence.isOnline('carol')).toBe(false);
    const remoteIds: string[] = [];
    for await (const id of room.remotePresence.users()) remoteIds.push(id);
    expect(remoteIds.sort()).toEqual(['alice', 'dave', 'erin']);
  });

  it('@Dispatch with dispatcher picks the named service, on a controller route and on a provider; without it, the default', async () => {
    const response = await fetch(`${baseUrl}/rooms/lobby`, { method: 'POST' });
    expect(response.status).toBe(201);
    await onlyReaches('ROOM_MESSAGE', 'chat');
    expect(await room.chatBacklog.count('bob')).toBe(1);
    await room.chatBacklog.clear('bob');

    expect(room.headline('rates')).toEqual({ text: 'rates' });
    await onlyReaches('HEADLINE', 'news');
    room.notice('maintenance');
    await onlyReaches('NOTICE', 'main');
  });

  it("reports each name's health with its own target and namespace", async () => {
    const body = (await (await fetch(`${baseUrl}/health`)).json()) as { status: string; info: Record<string, any> };
    expect(body.status).toBe('ok');
    expect(body.info.remote).toMatchObject({ status: 'up', name: 'remote', namespace: 'chat', target: `redis://127.0.0.1:${redisB.port}` });
    expect(body.info.main).toMatchObject({ status: 'up', namespace: null, target: `redis://127.0.0.1:${redisA.port}` });
    expect(body.info.main.name).toBeUndefined();
  });

  it('shares one connection between the registrations on the same url', async () => {
    expect(await redisA.connectionsNamed()).toBe(1);
    expect(await redisB.connectionsNamed()).toBe(1);
    const chat = app.get<MesaRedisConnection>(getMesaRedisConnectionToken('chat'));
    const news = app.get<MesaRedisConnection>(getMesaRedisConnectionToken('news'));
    const remote = app.get<MesaRedisConnection>(getMesaRedisConnectionToken('remote'));
    expect(chat.client).toBe(news.client);
    expect(chat.client).toBe(app.get<MesaRedisConnection>(getMesaRedisConnectionToken()).client);
    expect(remote.client).not.toBe(chat.client);
  });
});

describe('named registrations: sharedConnection: false, shutdown and duplicate names', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('opens its own connection for a registration with sharedConnection: false, and shutdown closes every connection', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ url: redis.url }),
        MesaModule.forRoot({ name: 'one', url: redis.url, namespace: 'one' }),
        MesaModule.forRoot({ name: 'two', url: redis.url, namespace: 'two', sharedConnection: false }),
        MesaModule.forRoot({ name: 'three', url: redis.url, namespace: 'three' }),
      ],
    }).compile();
    await moduleRef.init();
    expect(await redis.connectionsNamed()).toBe(2);
    const one = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken('one'));
    const two = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken('two'));
    expect(one.client).not.toBe(two.client);
    const shared = one.client;
    // one 'ready' listener per publisher on the shared client (default, one, three); none left behind at shutdown
    expect(shared.listenerCount('ready')).toBeGreaterThanOrEqual(3);
    const receivers = await moduleRef.get<DispatcherService>(getDispatcherToken('three')).broadcast(new Message(0, {}, 'PING'));
    expect(receivers.receivers).toBe(0);
    await moduleRef.close();
    expect(shared.status).toBe('end');
    expect(two.client.status).toBe('end');
    expect(shared.listenerCount('ready') + shared.listenerCount('close')).toBe(0);
    await eventually(async () => (await redis.connectionsNamed()) === 0, 5_000, 'every connection closed');
  });

  it('keeps a shared connection open until its last user shuts down, each publisher removing its own listeners', async () => {
    const registry = new MesaConnectionRegistry();
    const first = resolveMesaOptions({ url: redis.url, namespace: 'first' }, 'first');
    const second = resolveMesaOptions({ url: redis.url, namespace: 'second' }, 'second');
    const [a, b] = await Promise.all([registry.open(first), registry.open(second)]);
    expect(a.client).toBe(b.client);
    const client = a.client;
    const listeners = () => client.listenerCount('ready') + client.listenerCount('close');
    const before = listeners();
    const dispatcherA = new DispatcherService(first, new MesaPublisher(first, a));
    const dispatcherB = new DispatcherService(second, new MesaPublisher(second, b));
    expect(listeners()).toBe(before + 4);
    expect(await redis.connectionsNamed()).toBe(1);

    await dispatcherA.onApplicationShutdown();
    expect(listeners()).toBe(before + 2);
    expect(client.status).toBe('ready');
    await expect(dispatcherA.broadcast(new Message(0, {}, 'LATE'))).rejects.toThrow(/shut down/);
    const subscriber = redis.client();
    await subscriber.subscribe('ws_second');
    const published = new Promise<string>((resolve) => subscriber.on('message', (_channel, text: string) => resolve(text)));
    await dispatcherB.broadcast(new Message(0, { still: 'open' }, 'AFTER'));
    expect(JSON.parse(await published).message.t).toBe('AFTER');
    subscriber.disconnect();

    await dispatcherB.onApplicationShutdown();
    expect(listeners()).toBe(before);
    expect(client.status).toBe('end');
    await eventually(async () => (await redis.connectionsNamed()) === 0, 5_000, 'the shared connection closed');
  });

  it('never shares between two applications in one process', async () => {
    const apps = await Promise.all(
      [0, 1].map(async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [MesaModule.forRoot({ url: redis.url, namespace: 'x' }), MesaModule.forRoot({ name: 'y', url: redis.url })],
        }).compile();
        return moduleRef.init();
      }),
    );
    expect(await redis.connectionsNamed()).toBe(2);
    for (const moduleRef of apps) await moduleRef.close();
    await eventually(async () => (await redis.connectionsNamed()) === 0, 5_000, 'every connection closed');
  });

  it('closes the connections already opened when another registration cannot reach its Redis', async () => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const compiled = Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ name: 'up', url: redis.url }),
        MesaModule.forRoot({ name: 'down', url: unreachable, connectTimeout: 500 }),
      ],
    }).compile();
    await expect(compiled).rejects.toThrow(MesaConnectionError);
    await eventually(async () => (await redis.connectionsNamed()) === 0, 5_000, 'no connection left open');
  });

  it('refuses a name registered twice with different options', async () => {
    const compiled = Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ name: 'twice', url: redis.url, namespace: 'a' }),
        MesaModule.forRoot({ name: 'twice', url: redis.url, namespace: 'b' }),
      ],
    }).compile();
    await expect(compiled).rejects.toThrow(/the name 'twice' is registered twice/);
    await eventually(async () => (await redis.connectionsNamed()) === 0, 5_000, 'no connection left open');
  });
});
