import {
  Body,
  type CallHandler,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  type INestApplication,
  type NestInterceptor,
  Param,
  Post,
  Scope,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { map, type Observable, of } from 'rxjs';
import { Dispatch, DispatcherService, Message } from '../../lib/index.js';
import { MESA_SETTLED_DISPATCH } from '../../lib/mesa.constants.js';
import type { Settlement } from '../../lib/interfaces/settlement.interface.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaHttpApp } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';

interface ChatMessage {
  id: number;
  room: string;
  author: string;
  text: string;
}
const ROOM_MEMBERS: Record<string, string[]> = { lobby: ['alice', 'bob', 'carol'] };

@Injectable()
class ChatService {
  private nextId = 1;

  @Dispatch('NEW_MESSAGE', { recipients: (m: ChatMessage) => ROOM_MEMBERS[m.room], excluding: (m: ChatMessage) => [m.author] })
  async post(room: string, author: string, text: string): Promise<ChatMessage> {
    return { id: this.nextId++, room, author, text };
  }

  @Dispatch('SCORE', { recipients: (_score: number, user: string) => [user], data: (score: number) => ({ score }) })
  score(user: string): number {
    return 42;
  }

  @Dispatch('TICK', { recipients: () => ['alice'] })
  ticks(count: number): Observable<number> {
    return of(...Array.from({ length: count }, (_, i) => i + 1));
  }

  @Dispatch('NEVER_SAVED', { recipients: () => ['alice'] })
  async save(): Promise<ChatMessage> {
    throw SAVE_FAILED;
  }
}
const SAVE_FAILED = new Error('the database is down');

@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest().headers['x-user'] !== undefined;
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((body) => ({ wrapped: body })));
  }
}

@Controller('rooms')
class RoomsController {
  constructor(private readonly chat: ChatService) {}

  /** @Dispatch below Nest's decorators. */
  @Post(':room/messages')
  @HttpCode(202)
  @UseGuards(HeaderGuard)
  @UseInterceptors(WrapInterceptor)
  @Dispatch('ROUTE_BELOW', { recipients: (m: ChatMessage) => ROOM_MEMBERS[m.room], excluding: (m: ChatMessage) => [m.author] })
  postBelow(@Param('room') room: string, @Body() body: { author: string; text: string }): Promise<ChatMessage> {
    return this.chat.post(room, body.author, body.text);
  }

  /** @Dispatch above Nest's decorators. */
  @Dispatch('ROUTE_ABOVE', { recipients: (m: ChatMessage) => ROOM_MEMBERS[m.room], data: (m: ChatMessage) => ({ text: m.text }) })
  @Post(':room/announcements')
  @HttpCode(201)
  @UseGuards(HeaderGuard)
  postAbove(@Param('room') room: string, @Body() body: { author: string; text: string }): ChatMessage {
    return { id: 0, room, author: body.author, text: body.text };
  }

  @Get('stars/:to')
  @Dispatch('STAR', { recipients: (_r: unknown, to: string) => [to], onError: 'log' })
  star(@Param('to') to: string): Observable<{ star: number }> {
    return of({ star: 1 }, { star: 2 });
  }

  @Post('evil')
  @Dispatch('EVIL', { recipients: (_r: unknown, body: { to: string[] }) => body.to })
  evil(@Body() body: { to: string[] }): { ok: true } {
    return { ok: true };
  }

  @Post('evil-logged')
  @Dispatch('EVIL', { recipients: (_r: unknown, body: { to: string[] }) => body.to, onError: 'log' })
  evilLogged(@Body() body: { to: string[] }): Promise<{ ok: true }> {
    return Promise.resolve({ ok: true });
  }

  @Post('evil-thrown')
  @Dispatch('EVIL', { recipients: (_r: unknown, body: { to: string[] }) => body.to })
  evilThrown(@Body() body: { to: string[] }): Promise<{ ok: true }> {
    return Promise.resolve({ ok: true });
  }

  @Post('alert')
  @Dispatch('ALERT', { broadcast: true })
  alert(@Body() body: { text: string }): Promise<{ text: string }> {
    return Promise.resolve(body);
  }
}

@Controller({ path: 'scoped', scope: Scope.REQUEST })
class RequestScopedController {
  private static instances = 0;
  readonly instance = ++RequestScopedController.instances;

  @Post(':to')
  @Dispatch('SCOPED', { recipients: (_r: unknown, to: string) => [to] })
  async post(@Param('to') to: string): Promise<{ instance: number }> {
    return { instance: this.instance };
  }
}

describe('@Dispatch on controller routes and provider methods (HTTP app, real Mesa servers)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let app: INestApplication;
  let baseUrl: string;
  let alice: MesaUser;
  let bob: MesaUser;
  let carol: MesaUser;
  let spy: ChannelSpy;
  const logger = new RecordingLogger();
  const post = (path: string, body: object, headers: Record<string, string> = { 'x-user': 'alice' }) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2 });
    ({ app, baseUrl } = await createMesaHttpApp(
      { url: redis.url },
      { controllers: [RoomsController, RequestScopedController], providers: [ChatService], logger },
    ));
    [alice, bob, carol] = await Promise.all([
      MesaUser.connect(mesa.url(0), 'alice'),
      MesaUser.connect(mesa.url(1), 'bob'),
      MesaUser.connect(mesa.url(1), 'carol'),
    ]);
    spy = await ChannelSpy.listen(redis.url);
  });
  beforeEach(() => spy.clear());
  afterAll(async () => {
    [alice, bob, carol].forEach((user) => user.close());
    await spy.close();
    await app.close();
    await mesa.stop();
    await redis.stop();
  });

  it('below @Post/@HttpCode/guards/interceptors: route, status, guard and interceptor keep working', async () => {
    const response = await post('/rooms/lobby/messages', { author: 'alice', text: 'hello' });

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ wrapped: { id: 1, room: 'lobby', author: 'alice', text: 'hello' } });
    await bob.waitFor((u) => u.of('ROUTE_BELOW').length === 1);
    await carol.waitFor((u) => u.of('ROUTE_BELOW').length === 1);
    expect(bob.of('ROUTE_BELOW')[0].d).toEqual({ id: 1, room: 'lobby', author: 'alice', text: 'hello' });
    const routeBelow = (await spy.received()).filter((e) => e.message.t === 'ROUTE_BELOW');
    expect(routeBelow.map((e) => e.recipients)).toEqual([['bob', 'carol']]);
    expect((await post('/rooms/lobby/messages', { author: 'alice', text: 'x' }, {})).status).toBe(403);
  });

  it('above @Post/@HttpCode/guards: the route is still registered, data selector applies', async () => {
    const response = await post('/rooms/lobby/announcements', { author: 'bob', text: 'news' });

    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ text: 'news' });
    for (const user of [alice, bob, carol]) await user.waitFor((u) => u.of('ROUTE_ABOVE').length === 1);
    expect(alice.of('ROUTE_ABOVE')[0].d).toEqual({ text: 'news' });
    expect((await post('/rooms/lobby/announcements', { author: 'bob', text: 'x' }, {})).status).toBe(403);
  });

  it('the route answers after the message is published (Promise results are awaited)', async () => {
    // @Dispatch hands the dispatcher its message with what settles the route's promise (MESA_SETTLED_DISPATCH):
    // note when the dispatcher settles it, in order with the response
    const dispatcher = app.get(DispatcherService) as unknown as Record<
      symbol,
      (caller: Settlement, message: unknown, ...rest: unknown[]) => void
    >;
    const events: string[] = [];
    const original = dispatcher[MESA_SETTLED_DISPATCH];
    dispatcher[MESA_SETTLED_DISPATCH] = function (caller, message, ...rest) {
      const type = message instanceof Message ? message.type : '?';
      const watched: Settlement = {
        succeed: (result) => {
          events.push(`published ${type} to ${result.receivers}`);
          caller.succeed(result);
        },
        fail: (error, onUnconsumed) => caller.fail(error, onUnconsumed),
      };
      original.call(this, watched, message, ...rest);
    };

    try {
      await post('/rooms/lobby/messages', { author: 'bob', text: 'ordered' });
      events.push('response');
    } finally {
      delete dispatcher[MESA_SETTLED_DISPATCH];
    }

    // receivers: two Mesa replicas and the channel spy
    expect(events).toEqual(['published NEW_MESSAGE to 3', 'published ROUTE_BELOW to 3', 'response']);
  });

  it('Observable results: each emitted value is dispatched, in order', async () => {
    const response = await fetch(`${baseUrl}/rooms/stars/bob`);

    expect(response.status).toBe(200);
    await bob.waitFor((u) => u.of('STAR').length === 2);
    expect(bob.of('STAR').map((m) => m.d.star)).toEqual([1, 2]);
  });

  it('request-scoped controllers get the dispatcher injected per request', async () => {
    const first = (await (await post('/scoped/carol', {})).json()) as { instance: number };
    const second = (await (await post('/scoped/carol', {})).json()) as { instance: number };

    expect(first.instance).not.toBe(second.instance);
    await carol.waitFor((u) => u.of('SCOPED').length === 2);
    expect(carol.of('SCOPED').map((m) => m.d.instance)).toEqual([first.instance, second.instance]);
  });

  it('a "*" coming out of request data never broadcasts and always fails the call ("log" is for Redis failures only)', async () => {
    const thrown = await post('/rooms/evil-thrown', { to: ['*'] });
    const logged = await post('/rooms/evil-logged', { to: ['bob', '*'] });
    const plain = await post('/rooms/evil', { to: ['*'] });
    await post('/rooms/alert', { text: 'fire drill' });

    expect(thrown.status).toBe(500);
    expect(logged.status).toBe(500);
    expect(plain.status).toBe(500);
    for (const user of [alice, bob, carol]) await user.waitFor((u) => u.of('ALERT').length === 1);
    expect(await spy.types()).toEqual(['ALERT']);
    expect([...alice.of('EVIL'), ...bob.of('EVIL'), ...carol.of('EVIL')]).toEqual([]);
    expect(
      logger.errors(/@Dispatch\('EVIL'\) on RoomsController\.(evilLogged|evil|evilThrown): the recipients function returned '\*'/),
    ).toHaveLength(3);
  });

  it('provider methods: Promise, plain value and Observable results are returned unchanged', async () => {
    const chat = app.get(ChatService);

    const message = await chat.post('lobby', 'carol', 'from a provider');
    const score = chat.score('alice');
    const ticks: number[] = [];
    await new Promise<void>((resolve) => chat.ticks(3).subscribe({ next: (t) => ticks.push(t), complete: resolve }));

    expect(message).toMatchObject({ author: 'carol', text: 'from a provider' });
    expect(score).toBe(42);
    expect(ticks).toEqual([1, 2, 3]);
    const fromProvider = (u: MesaUser) => u.of('NEW_MESSAGE').filter((m) => m.d.text === 'from a provider');
    await alice.waitFor((u) => fromProvider(u).length === 1 && u.of('SCORE').length === 1 && u.of('TICK').length === 3);
    expect(alice.of('SCORE')[0].d).toEqual({ score: 42 });
    expect(alice.of('TICK').map((m) => m.d)).toEqual([1, 2, 3]);
    await bob.waitFor((u) => fromProvider(u).length === 1);
    expect(fromProvider(carol)).toEqual([]);
  });

  it("a method's own rejection reaches the caller unchanged, and nothing is dispatched", async () => {
    await expect(app.get(ChatService).save()).rejects.toBe(SAVE_FAILED);

    expect(await spy.types()).not.toContain('NEVER_SAVED');
  });
});
