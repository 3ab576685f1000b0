import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MesaConfigurationError, MesaModule, OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { PoolAnnouncements, PortalSender, poolMembers, sleep, startPortalApp, usePortalServers } from './support/portal-harness.js';

@Injectable()
class Inbox {
  readonly seq: number[] = [];
  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.push((message.data as { n: number }).n);
  }
}

describe('Portal pool: heartbeats, reaping, announcements', () => {
  const servers = usePortalServers();

  it('reaps a dead portal exactly once (two live reapers), never announces an id that was not in the pool, and leaves foreign portals alone', async () => {
    const db = servers.redis.client();
    const announcements = await PoolAnnouncements.listen(servers.redis.url);
    await db
      .multi()
      .sadd('available_portals_pool', 'dead')
      .publish('available_portals_pool', JSON.stringify({ id: 'dead', ready: true }))
      .exec();
    await db.sadd('available_portals_pool', 'mesa-native');
    await db.zadd('portal_heartbeats', 1, 'dead', 2, 'ghost-not-in-pool');
    const ttl = 600;
    const a = await startPortalApp(servers.redis.url, { id: 'live-a', heartbeatTtl: ttl }, { providers: [Inbox] });
    const b = await startPortalApp(servers.redis.url, { id: 'live-b', heartbeatTtl: ttl }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(servers.mesa.url(0), 'alice'), await PortalSender.connect(servers.mesa.url(1), 'bob')];
    try {
      await eventually(async () => (await poolMembers(db)).join() === 'live-a,live-b,mesa-native', 10_000, 'dead reaped');
      await eventually(async () => (await db.zscore('portal_heartbeats', 'ghost-not-in-pool')) === null, 5_000, 'ghost cleared');
      await sleep(ttl * 2);
      expect(announcements.of('dead', false)).toBe(1);
      expect(announcements.of('ghost-not-in-pool', false)).toBe(0);
      expect(announcements.of('mesa-native', false)).toBe(0);
      expect(announcements.of('live-a', true)).toBe(1);
      expect(announcements.of('live-b', true)).toBe(1);
      expect(announcements.seen).toHaveLength(4);
      expect((await db.zrange('portal_heartbeats', '0', '-1')).sort()).toEqual(['live-a', 'live-b']);
      for (let n = 0; n < 200; n++) senders[n % 2]!.send('SEQ', { n });
      const handled = () => a.get(Inbox).seq.length + b.get(Inbox).seq.length;
      await eventually(
        () => handled() === 200,
        10_000,
        'every message reaches a live portal: the servers dropped the dead one and kept both live ones',
      );
      expect(a.get(Inbox).seq.length).toBeGreaterThan(50);
      expect(b.get(Inbox).seq.length).toBeGreaterThan(50);
      expect(await poolMembers(db)).toContain('mesa-native');
    } finally {
      senders.forEach((sender) => sender.close());
      await a.close();
      await b.close();
      await announcements.close();
      await db.srem('available_portals_pool', 'mesa-native');
      db.disconnect();
    }
  });

  it('a live portal that was reaped (a stall) rejoins and announces itself once; leaving announces once; the servers keep routing to it', async () => {
    const db = servers.redis.client();
    const announcements = await PoolAnnouncements.listen(servers.redis.url);
    const app = await startPortalApp(servers.redis.url, { id: 'stalled', heartbeatTtl: 600 }, { providers: [Inbox] });
    const sender = await PortalSender.connect(servers.mesa.url(0), 'alice');
    try {
      await eventually(async () => (await poolMembers(db)).includes('stalled'), 10_000, 'joined');
      await db
        .multi()
        .srem('available_portals_pool', 'stalled')
        .publish('available_portals_pool', JSON.stringify({ id: 'stalled', ready: false }))
        .exec();
      await eventually(() => announcements.of('stalled', true) === 2, 5_000, 'rejoined');
      await sleep(100);
      for (let n = 0; n < 50; n++) sender.send('SEQ', { n });
      await eventually(() => app.get(Inbox).seq.length === 50, 10_000, 'all 50 handled after the rejoin');
      await app.close();
      expect(announcements.of('stalled', false)).toBe(2);
      expect(announcements.of('stalled', true)).toBe(2);
      expect(await poolMembers(db)).toEqual([]);
      expect(await db.zscore('portal_heartbeats', 'stalled')).toBeNull();
    } finally {
      sender.close();
      await app.close();
      await announcements.close();
      db.disconnect();
    }
  });

  it('does nothing when the portal is not enabled: no connection, no pool entry; handlers are reported as never running', async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const before = (await db.client('LIST')) as string;
    const { moduleRef } = await createMesaModule({ url: servers.redis.url, portal: { enabled: false } }, { providers: [Inbox], logger });
    try {
      await sleep(300);
      const clients = (await db.client('LIST')) as string;
      expect(clients).not.toContain('portal');
      expect(clients.split('\n').length - before.split('\n').length).toBe(1);
      expect(await poolMembers(db)).toEqual([]);
      expect(
        logger.lines.some(
          (l) => l.level === 'warn' && /1 @OnMesa… handler\(s\) found \(Inbox\.onSeq…\) but portal\.enabled is not true/.test(l.message),
        ),
      ).toBe(true);
    } finally {
      await moduleRef.close();
      db.disconnect();
    }
  });

  it('joins at bootstrap in an application without an HTTP server', async () => {
    const db = servers.redis.client();
    const { moduleRef } = await createMesaModule(
      { url: servers.redis.url, portal: { enabled: true, id: 'context-only' } },
      { providers: [Inbox], logger: false },
    );
    try {
      await eventually(async () => (await poolMembers(db)).includes('context-only'), 10_000, 'joined');
    } finally {
      await moduleRef.close();
      expect(await poolMembers(db)).toEqual([]);
      db.disconnect();
    }
  });

  it.each([
    [{ enabled: 'yes' }, /portal\.enabled must be true or false/],
    [{ enabled: true, id: '' }, /portal\.id must be a string of 1 to 200 characters/],
    [{ enabled: true, id: 'has space' }, /portal\.id must be printable ASCII without spaces/],
    [{ enabled: true, heartbeatTtl: 10 }, /portal\.heartbeatTtl must be a whole number of milliseconds, at least 300/],
    [{ enabled: true, concurrency: 0 }, /portal\.concurrency must be a whole number of handlers, at least 1/],
    [{ enabled: true, maxQueued: -1 }, /portal\.maxQueued must be a whole number of events, at least 0/],
    [{ enabled: true, nope: 1 }, /unknown option 'portal\.nope'/],
    [true, /portal must be an object such as \{ enabled: true \}/],
  ])('rejects portal option %j at bootstrap with a clear message', async (portal, message) => {
    const compiling = Test.createTestingModule({
      imports: [MesaModule.forRoot({ url: servers.redis.url, portal: portal as never })],
    }).compile();
    await expect(compiling).rejects.toThrow(MesaConfigurationError);
    await expect(
      Test.createTestingModule({ imports: [MesaModule.forRoot({ url: servers.redis.url, portal: portal as never })] }).compile(),
    ).rejects.toThrow(message);
  });
});
