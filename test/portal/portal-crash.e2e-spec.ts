import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { MESA_PORTAL_DEFAULTS } from '../../lib/mesa.constants.js';
import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { RedisServer } from '../support/redis-server.js';
import { PortalSender, mesaConnected, poolMembers, sleep, startPortalApp } from './support/portal-harness.js';
import { verbose } from '../support/verbose.js';

const CHILD = fileURLToPath(new URL('./support/portal-child.mjs', import.meta.url));
const TTL = MESA_PORTAL_DEFAULTS.heartbeatTtl;
/** The documented bound: one TTL for the heartbeat to lapse, a third of it for the next reaping pass. */
const DOCUMENTED_WINDOW = TTL + TTL / 3;
/** Room for a loaded 2-core machine (timers, pub/sub and the servers' processing). */
const SLACK = 1_000;

@Injectable()
class Inbox {
  readonly seq = new Set<number>();
  readonly warm = new Set<string>();
  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.add((message.data as { n: number }).n);
  }
  @OnMesaMessage('WARM')
  onWarm(message: MesaClientMessage) {
    this.warm.add(message.clientId!);
  }
}

/** The child Nest app: what it printed (handled SEQ numbers, warm senders). */
class Child {
  readonly handled = new Set<number>();
  readonly warm = new Set<string>();
  joined = false;
  private constructor(readonly process: ChildProcess) {}

  static async start(redisUrl: string, id: string): Promise<Child> {
    const child = new Child(
      spawn(process.execPath, [CHILD, JSON.stringify({ redisUrl, id, heartbeatTtl: TTL })], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    let buffer = '';
    child.process.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'joined') child.joined = true;
        if (word === 'handled') child.handled.add(Number(value));
        if (word === 'warm') child.warm.add(value!);
      }
    });
    await eventually(() => child.joined || child.process.exitCode !== null, 20_000, 'the child portal joined');
    if (!child.joined) throw new Error(`child exited with ${child.process.exitCode}`);
    return child;
  }

  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) return resolve();
      this.process.once('exit', () => resolve());
      this.process.kill('SIGKILL');
    });
  }
}

describe('Portal crash: a SIGKILLed instance stops receiving events within the documented window', () => {
  it('measures the lost window over three kills, delivers everything after it to the survivor, and the restarted instance (same id) rejoins', async () => {
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, portal: true });
    await mesaConnected(redis, 2);
    const db = redis.client();
    const survivor = await startPortalApp(redis.url, { id: 'survivor' }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const windows: number[] = [];
    let child: Child | undefined;
    let n = 0;
    try {
      for (let round = 0; round < 3; round++) {
        child = await Child.start(redis.url, 'doomed');
        const inbox = survivor.get(Inbox);
        inbox.warm.clear();
        await eventually(
          async () => {
            senders.forEach((sender) => sender.send('WARM', {}));
            await sleep(20);
            return senders.every((s) => child!.warm.has(s.id) && inbox.warm.has(s.id));
          },
          15_000,
          'both portals listed by both replicas',
        );
        const sentAt = new Map<number, number>();
        const first = n;
        const send = () => {
          sentAt.set(n, Date.now());
          senders[n % 2]!.send('SEQ', { n: n++ });
        };
        const streamUntil = async (deadline: number) => {
          while (Date.now() < deadline) {
            send();
            await sleep(5);
          }
        };
        await streamUntil(Date.now() + 300);
        const killedAt = Date.now();
        await child.kill();
        await streamUntil(killedAt + DOCUMENTED_WINDOW + SLACK + 1_000);
        const last = n - 1;
        await eventually(
          () => [...sentAt.keys()].filter((k) => sentAt.get(k)! > killedAt + DOCUMENTED_WINDOW + SLACK).every((k) => inbox.seq.has(k)),
          10_000,
          'the tail handled',
        );
        await sleep(300);

        const lost = [...sentAt.keys()].filter((k) => !inbox.seq.has(k) && !child!.handled.has(k));
        const window = lost.length === 0 ? 0 : Math.max(...lost.map((k) => sentAt.get(k)!)) - killedAt;
        windows.push(window);
        expect(lost.length).toBeGreaterThan(0);
        expect(window).toBeLessThanOrEqual(DOCUMENTED_WINDOW + SLACK);
        const afterWindow = [...sentAt.keys()].filter((k) => sentAt.get(k)! > killedAt + window);
        expect(afterWindow.every((k) => inbox.seq.has(k))).toBe(true);
        expect(afterWindow.length).toBeGreaterThan(50);
        expect(lost.every((k) => k >= first && k <= last)).toBe(true);
        expect(await poolMembers(db)).toEqual(['survivor']);
      }
      // eslint-disable-next-line no-console
      verbose(`dead-portal lost window (heartbeatTtl ${TTL} ms), ms: ${windows.join(', ')}`);
    } finally {
      await child?.kill();
      senders.forEach((sender) => sender.close());
      await survivor.close();
      db.disconnect();
      await mesa.stop();
      await redis.stop();
    }
  }, 180_000);
});
