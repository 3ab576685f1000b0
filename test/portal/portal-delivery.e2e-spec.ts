import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import {
  PoolAnnouncements,
  PortalSender,
  poolMembers,
  sleep,
  startPortalApp,
  usePortalServers,
  type PortalApp,
} from './support/portal-harness.js';

@Injectable()
class Inbox {
  readonly seq: number[] = [];
  readonly warm = new Set<string>();

  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.push((message.data as { n: number }).n);
  }

  @OnMesaMessage('WARM')
  onWarm(message: MesaClientMessage) {
    this.warm.add(message.clientId!);
  }
}

/** Sends WARM frames until every app has handled one from every sender (each replica then lists every portal). */
async function warmUp(senders: PortalSender[], apps: PortalApp[]): Promise<void> {
  await eventually(
    async () => {
      senders.forEach((sender) => sender.send('WARM', {}));
      await sleep(20);
      return apps.every((app) => senders.every((sender) => app.get(Inbox).warm.has(sender.id)));
    },
    15_000,
    'every portal listed by every replica',
  );
}

describe('Portal delivery: two Nest instances, two Mesa replicas', () => {
  const servers = usePortalServers();

  it('handles 1,000 client messages exactly once in total, spread over both instances', async () => {
    const db = servers.redis.client();
    const a = await startPortalApp(servers.redis.url, { id: 'portal-a' }, { providers: [Inbox] });
    const b = await startPortalApp(servers.redis.url, { id: 'portal-b' }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(servers.mesa.url(0), 'alice'), await PortalSender.connect(servers.mesa.url(1), 'bob')];
    try {
      await eventually(async () => (await poolMembers(db)).join() === 'portal-a,portal-b', 10_000, 'both portals in the pool');
      await warmUp(senders, [a, b]);
      for (let n = 0; n < 1000; n++) senders[n % 2]!.send('SEQ', { n });
      const handled = () => [...a.get(Inbox).seq, ...b.get(Inbox).seq];
      await eventually(() => handled().length >= 1000, 20_000, '1000 messages handled');
      await sleep(300);
      const all = handled();
      expect(all).toHaveLength(1000);
      expect(new Set(all).size).toBe(1000);
      expect(a.get(Inbox).seq.length).toBeGreaterThan(200);
      expect(b.get(Inbox).seq.length).toBeGreaterThan(200);
    } finally {
      senders.forEach((sender) => sender.close());
      await a.close();
      await b.close();
      db.disconnect();
    }
  });

  it('closing one instance gracefully mid-stream loses nothing: every later message reaches the other', async () => {
    const db = servers.redis.client();
    const announcements = await PoolAnnouncements.listen(servers.redis.url);
    const a = await startPortalApp(servers.redis.url, { id: 'leaving' }, { providers: [Inbox] });
    const b = await startPortalApp(servers.redis.url, { id: 'staying' }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(servers.mesa.url(0), 'carol'), await PortalSender.connect(servers.mesa.url(1), 'dave')];
    try {
      await warmUp(senders, [a, b]);
      let closed = false;
      let n = 0;
      const send = () => senders[n % 2]!.send('SEQ', { n: n++ });
      while (n <= 300) send();
      const closing = a.close().then(() => void (closed = true));
      while (!closed) {
        send();
        if (n % 5 === 0) await sleep(5);
      }
      await closing;
      const closedAfter = n - 1;
      for (let i = 0; i < 300; i++) send();
      const total = n;
      const handledByA = a.get(Inbox).seq;
      const handledByB = b.get(Inbox).seq;
      await eventually(() => handledByA.length + handledByB.length >= total, 20_000, `all ${total} handled`);
      await sleep(300);
      expect(handledByA.length + handledByB.length).toBe(total);
      expect(new Set([...handledByA, ...handledByB]).size).toBe(total);
      expect(handledByA.some((m) => m > 300)).toBe(true);
      expect(handledByA.every((m) => m <= closedAfter)).toBe(true);
      expect(handledByB.filter((m) => m > closedAfter)).toHaveLength(total - 1 - closedAfter);
      expect(await poolMembers(db)).toEqual(['staying']);
      expect(announcements.of('leaving', false)).toBe(1);
    } finally {
      senders.forEach((sender) => sender.close());
      await b.close();
      await announcements.close();
      db.disconnect();
    }
  });
});
