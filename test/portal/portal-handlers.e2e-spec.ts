import {
  type ArgumentsHost,
  Catch,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  type PipeTransform,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { map } from 'rxjs';
import {
  Dispatch,
  type MesaClientMessage,
  OnMesaAuthentication,
  OnMesaConnection,
  OnMesaDisconnection,
  OnMesaMessage,
} from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { MesaUser } from '../support/mesa-user.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { PortalSender, poolMembers, sleep, startPortalApp, usePortalServers } from './support/portal-harness.js';
import { verbose } from '../support/verbose.js';

interface Typing {
  from: string;
  to: string[];
  order: string;
}

const ROOM = ['alice', 'bob', 'carol'];

/** Only messages whose data says `allowed: true` pass; records what it saw. */
@Injectable()
class AllowedGuard implements CanActivate {
  static seen: Array<{ type: string; data: unknown }> = [];
  canActivate(context: ExecutionContext): boolean {
    const message = context.switchToRpc().getData<MesaClientMessage>();
    AllowedGuard.seen.push({ type: context.getType(), data: message.data });
    return (message.data as { allowed?: boolean })?.allowed === true;
  }
}

class ShoutPipe implements PipeTransform {
  transform(message: MesaClientMessage): MesaClientMessage {
    return { ...message, data: String((message.data as { text: string }).text).toUpperCase() };
  }
}

class StampInterceptor implements NestInterceptor {
  static outputs: string[] = [];
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(map((value: string) => StampInterceptor.outputs[StampInterceptor.outputs.push(`${value}+stamped`) - 1]));
  }
}

class Refusal extends Error {}

@Catch(Refusal)
class RefusalFilter implements ExceptionFilter {
  static caught: Array<{ message: string; type: string }> = [];
  catch(error: Refusal, host: ArgumentsHost) {
    RefusalFilter.caught.push({ message: error.message, type: host.getType() });
    return 'handled by filter';
  }
}

@Injectable()
class ChatPortal {
  readonly events: string[] = [];
  readonly guarded: unknown[] = [];
  readonly shouted: unknown[] = [];
  readonly all: Array<string | undefined> = [];

  @OnMesaMessage('TYPING_OUTER')
  @Dispatch('TYPING', { recipients: (t: Typing) => t.to })
  typingOuter(message: MesaClientMessage): Typing {
    return { from: message.clientId!, to: ROOM.filter((id) => id !== message.clientId), order: 'portal above dispatch' };
  }

  @Dispatch('TYPING', { recipients: (t: Typing) => t.to })
  @OnMesaMessage('TYPING_INNER')
  async typingInner(message: MesaClientMessage): Promise<Typing> {
    return { from: message.clientId!, to: ROOM.filter((id) => id !== message.clientId), order: 'dispatch above portal' };
  }

  @OnMesaMessage('GUARDED')
  @UseGuards(AllowedGuard)
  onGuarded(message: MesaClientMessage) {
    this.guarded.push(message.data);
  }

  @OnMesaMessage('SHOUT')
  @UsePipes(ShoutPipe)
  onShout(message: MesaClientMessage) {
    this.shouted.push(message.data);
  }

  @UseInterceptors(StampInterceptor)
  @OnMesaMessage('STAMP')
  onStamp(message: MesaClientMessage) {
    return `stamp ${(message.data as { k: number }).k}`;
  }

  @OnMesaMessage('REFUSE')
  @UseFilters(RefusalFilter)
  onRefuse() {
    throw new Refusal('no thanks');
  }

  @OnMesaMessage('FAIL')
  async onFail(): Promise<void> {
    throw new Error('handler exploded');
  }

  @OnMesaMessage()
  onAny(message: MesaClientMessage) {
    this.all.push(message.type);
  }

  @OnMesaConnection()
  onConnection(...args: unknown[]) {
    this.events.push(`connection(${args.length})`);
  }

  @OnMesaAuthentication()
  onAuthentication(clientId: string) {
    this.events.push(`authentication ${clientId}`);
  }

  @OnMesaDisconnection()
  onDisconnection(clientId?: string) {
    this.events.push(`disconnection ${clientId}`);
  }
}

class Swallowed extends Error {}

/** A global filter (APP_FILTER) for one error class: what it handles is neither logged nor passed on. */
@Catch(Swallowed)
class SwallowFilter implements ExceptionFilter {
  static caught = 0;
  catch() {
    SwallowFilter.caught++;
    return 'swallowed';
  }
}

/** The README's pattern: a handler that refuses unauthenticated sockets by throwing. */
@Injectable()
class ReadmeTypingPortal {
  refused = 0;
  swallowed = 0;
  @OnMesaMessage('TYPING')
  typing(frame: MesaClientMessage) {
    if (!frame.clientId) {
      this.refused++;
      throw new Error('not authenticated');
    }
  }

  @OnMesaMessage('QUIET')
  quiet() {
    this.swallowed++;
    throw new Swallowed('handled by the global filter');
  }
}

/** Counts concurrent handler runs; each waits until released. */
@Injectable()
class SlowPortal {
  running = 0;
  maxRunning = 0;
  done = 0;
  release?: () => void;
  private gate = new Promise<void>((resolve) => (this.release = resolve));

  @OnMesaMessage('SLOW')
  async onSlow() {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await this.gate;
    this.running--;
    this.done++;
  }
}

describe('Portal handlers run through Nest (guards, pipes, interceptors, filters, @Dispatch)', () => {
  const servers = usePortalServers();

  it('applies guards, pipes, interceptors and filters; @Dispatch works in either order; failures are logged and the portal goes on', async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const app = await startPortalApp(servers.redis.url, { id: 'handlers' }, { providers: [ChatPortal], logger });
    const chat = app.get(ChatPortal);
    await eventually(async () => (await poolMembers(db)).includes('handlers'), 10_000, 'portal joined');
    await sleep(200);
    const bob = await MesaUser.connect(servers.mesa.url(1), 'bob');
    const alice = await PortalSender.connect(servers.mesa.url(0), 'alice');
    try {
      await eventually(() => chat.events.includes('authentication alice'), 10_000, 'alice authenticated');
      alice.send('TYPING_OUTER', {});
      alice.send('TYPING_INNER', {});
      alice.send('GUARDED', { allowed: false, n: 1 });
      alice.send('GUARDED', { allowed: true, n: 2 });
      alice.send('SHOUT', { text: 'hello' });
      alice.send('STAMP', { k: 7 });
      alice.send('REFUSE', {});
      alice.send('FAIL', {});
      alice.send('AFTER', {});

      await bob.waitFor((u) => u.of('TYPING').length === 2, 10_000, 'two TYPING dispatches');
      expect(
        bob
          .of('TYPING')
          .map((m) => m.d.order)
          .sort(),
      ).toEqual(['dispatch above portal', 'portal above dispatch']);
      expect(bob.of('TYPING').every((m) => m.d.from === 'alice')).toBe(true);
      await eventually(() => chat.all.includes('AFTER'), 10_000, 'the portal keeps handling after a failure');
      await eventually(() => logger.errors(/FAIL/).length > 0, 5_000, 'failure logged');

      expect(chat.guarded).toEqual([{ allowed: true, n: 2 }]);
      expect(AllowedGuard.seen.map((s) => s.type)).toEqual(['mesa', 'mesa']);
      expect(chat.shouted).toEqual(['HELLO']);
      expect(StampInterceptor.outputs).toEqual(['stamp 7+stamped']);
      expect(RefusalFilter.caught).toEqual([{ message: 'no thanks', type: 'mesa' }]);
      expect(chat.all).toEqual(['TYPING_OUTER', 'TYPING_INNER', 'GUARDED', 'GUARDED', 'SHOUT', 'STAMP', 'REFUSE', 'FAIL', 'AFTER']);
      const failure = logger.errors(/Portal handler ChatPortal\.onFail failed/);
      expect(failure).toHaveLength(1);
      expect(failure[0]).toContain(`message "FAIL" from client "alice": handler exploded`);
      expect(
        logger.errors(/Portal handler ChatPortal\.onGuarded failed on message "GUARDED" from client "alice": Forbidden resource/),
      ).toHaveLength(1);
      expect(logger.errors(/onRefuse/)).toEqual([]);

      alice.close();
      await eventually(() => chat.events.includes('disconnection alice'), 10_000, 'disconnection');
      expect(chat.events.filter((e) => e.startsWith('connection'))).toEqual(['connection(0)', 'connection(0)']);
      expect(chat.events).toContain('authentication bob');
    } finally {
      alice.close();
      bob.close();
      await app.close();
      db.disconnect();
    }
  });

  it('bounds handler concurrency and the queue; an overflow is dropped and logged, never silently', async () => {
    const logger = new RecordingLogger();
    const app = await startPortalApp(
      servers.redis.url,
      { id: 'slow', concurrency: 3, maxQueued: 5, maxClientShare: 1 },
      { providers: [SlowPortal], logger },
    );
    const db = servers.redis.client();
    const slow = app.get(SlowPortal);
    const sender = await PortalSender.connect(servers.mesa.url(0), 'erin');
    try {
      await eventually(async () => (await poolMembers(db)).includes('slow'), 10_000, 'portal joined');
      await sleep(200);
      for (let i = 0; i < 20; i++) sender.send('SLOW', { i });
      await eventually(
        () => logger.lines.some((l) => /dropped a client event .* from client "erin"/.test(l.message)),
        10_000,
        'overflow logged',
      );
      await sleep(200);
      expect(slow.running).toBe(3);
      slow.release!();
      await eventually(() => slow.done === 8, 10_000, '3 running + 5 queued handled');
      await sleep(200);
      expect(slow.done).toBe(8);
      expect(slow.maxRunning).toBe(3);
      const drops = logger.lines.filter((l) => l.level === 'warn' && /dropped a client event/.test(l.message));
      expect(drops.length).toBeGreaterThanOrEqual(1);
      expect(drops.length).toBeLessThanOrEqual(5);
    } finally {
      sender.close();
      await app.close();
      db.disconnect();
    }
  });

  it("aggregates handler failures under a flood (the README's throw from one unauthenticated socket): a few lines, no stack per frame; filters still apply", async () => {
    const logger = new RecordingLogger();
    const app = await startPortalApp(
      servers.redis.url,
      { id: 'throwing' },
      { providers: [ReadmeTypingPortal, { provide: APP_FILTER, useClass: SwallowFilter }], logger },
    );
    const db = servers.redis.client();
    const portal = app.get(ReadmeTypingPortal);
    const stranger = await PortalSender.connect(servers.mesa.url(0), 'stranger', false);
    try {
      await eventually(async () => (await poolMembers(db)).includes('throwing'), 10_000, 'portal joined');
      await sleep(200);
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        for (let i = 0; i < 50; i++) stranger.send('TYPING', { room: 'general' });
        stranger.send('QUIET', {});
        await sleep(5);
      }
      let seen = -1;
      await eventually(
        async () => {
          const before = (seen = portal.refused);
          await sleep(300);
          return portal.refused === before;
        },
        20_000,
        'the flood handled',
      );
      const stackTraces = logger.lines.filter((l) => l.context === 'ExceptionsHandler');
      const failures = logger.errors(
        /Portal handler ReadmeTypingPortal\.typing failed on message "TYPING" from an unauthenticated socket: not authenticated/,
      );
      verbose(
        `exception flood: ${portal.refused} refusals, ${portal.swallowed} swallowed → ${logger.lines.length} log lines ` +
          `(${stackTraces.length} from ExceptionsHandler, ${logger.text().length} bytes)`,
      );
      expect(portal.refused).toBeGreaterThan(1_000);
      expect(stackTraces).toEqual([]);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(logger.lines.length).toBeLessThanOrEqual(20);
      expect(seen).toBe(portal.refused);
      expect(SwallowFilter.caught).toBe(portal.swallowed);
      expect(logger.lines.some((l) => /QUIET|Swallowed|global filter/.test(l.message))).toBe(false);
      await app.close();
      const sums = logger.errors(/ReadmeTypingPortal\.typing failed .* \((\d+) more like this in the last 10 s\)$/);
      expect(sums).toHaveLength(1);
      expect(Number(/\((\d+) more like this/.exec(sums[0]!)![1]) + failures.length).toBe(portal.refused);
    } finally {
      stranger.close();
      await app.close();
      db.disconnect();
    }
  }, 60_000);
});
