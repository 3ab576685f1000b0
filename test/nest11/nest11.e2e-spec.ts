import { Body, Controller, Injectable, type INestApplication, Param, Post, Scope } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { Dispatch, DispatcherService, Message, MesaModule } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';

const require = createRequire(import.meta.url);

@Injectable()
class GreetingService {
  @Dispatch('GREETING', { recipients: (_r: unknown, to: string) => [to], data: (text: string) => ({ text }) })
  async greet(to: string, text: string): Promise<string> {
    return text;
  }
}

@Controller('rooms')
class RoomsController {
  constructor(private readonly greetings: GreetingService) {}

  @Post(':to/messages')
  @Dispatch('NEW_MESSAGE', { recipients: (_r: unknown, to: string) => [to] })
  async post(@Param('to') to: string, @Body() body: { text: string }): Promise<{ text: string }> {
    return { text: body.text };
  }

  @Post(':to/greetings')
  greet(@Param('to') to: string): Promise<string> {
    return this.greetings.greet(to, 'hello from a provider');
  }
}

@Controller({ path: 'scoped', scope: Scope.REQUEST })
class ScopedController {
  private static created = 0;
  private readonly instance = ++ScopedController.created;

  @Post(':to')
  @Dispatch('SCOPED', { recipients: (_r: unknown, to: string) => [to] })
  async post(@Param('to') to: string): Promise<{ instance: number }> {
    return { instance: this.instance };
  }
}

describe('nestjs-mesa on Nest 11', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let alice: MesaUser;

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1 });
    alice = await MesaUser.connect(mesa.url(0), 'alice');
  });
  afterAll(async () => {
    alice.close();
    await mesa.stop();
    await redis.stop();
  });

  it('really runs on Nest 11 (@nestjs/* resolved from .nest11/)', () => {
    for (const name of ['common', 'core', 'testing', 'platform-express']) {
      const entry = require.resolve(`@nestjs/${name}`);
      expect(entry).toContain(`${sep}.nest11${sep}node_modules${sep}@nestjs${sep}${name}${sep}`);
      expect(require(`@nestjs/${name}/package.json`).version).toMatch(/^11\./);
    }
    expect([Test, Controller]).toEqual([require('@nestjs/testing').Test, require('@nestjs/common').Controller]);
  });

  it('forRoot: DispatcherService reaches a user on a real Mesa server', async () => {
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url });

    const result = await dispatcher.dispatch(new Message(0, { via: 'forRoot' }, 'DIRECT'), ['alice', 'bob']);

    expect(result).toEqual({ recipients: ['alice', 'bob'], publishedTo: ['alice', 'bob'], storedFor: [], receivers: 1 });
    await alice.waitFor((u) => u.of('DIRECT').length === 1);
    expect(alice.of('DIRECT')[0].d).toEqual({ via: 'forRoot' });
    await moduleRef.close();
  });

  describe('forRootAsync with an HTTP app', () => {
    let moduleRef: TestingModule;
    let app: INestApplication;
    let baseUrl: string;
    const post = (path: string, body: object = {}) =>
      fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    beforeAll(async () => {
      moduleRef = await Test.createTestingModule({
        imports: [MesaModule.forRootAsync({ useFactory: async () => ({ url: redis.url, sync: { enabled: true } }) })],
        controllers: [RoomsController, ScopedController],
        providers: [GreetingService],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(() => app.close());

    it('@Dispatch on a route sends what it returns before the response', async () => {
      const response = await post('/rooms/alice/messages', { text: 'hi' });

      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ text: 'hi' });
      await alice.waitFor((u) => u.of('NEW_MESSAGE').length === 1);
      expect(alice.of('NEW_MESSAGE')[0].d).toEqual({ text: 'hi' });
    });

    it('@Dispatch on a provider method, and sync stores for an offline user', async () => {
      expect((await post('/rooms/alice/greetings')).status).toBe(201);
      await alice.waitFor((u) => u.of('GREETING').length === 1);
      expect(alice.of('GREETING')[0].d).toEqual({ text: 'hello from a provider' });

      expect((await post('/rooms/nobody/greetings')).status).toBe(201);
      const db = redis.client();
      try {
        expect(withoutCount(JSON.parse((await db.hget('undelivered_messages', 'nobody'))!))).toEqual([
          { op: 0, d: { text: 'hello from a provider' }, t: 'GREETING' },
        ]);
      } finally {
        db.disconnect(); // even when the check fails: a client left open keeps jest (and CI) from exiting
      }
    });

    it('@Dispatch on a request-scoped controller: one instance per request, each dispatching', async () => {
      const first = (await (await post('/scoped/alice')).json()) as { instance: number };
      const second = (await (await post('/scoped/alice')).json()) as { instance: number };

      expect(second.instance).toBe(first.instance + 1);
      await alice.waitFor((u) => u.of('SCOPED').length === 2);
      expect(alice.of('SCOPED').map((m) => m.d.instance)).toEqual([first.instance, second.instance]);
      expect(app.get(DispatcherService)).toBeInstanceOf(DispatcherService);
    });
  });
});
