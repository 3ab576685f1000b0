import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { PortalSender, poolMembers, sleep, startPortalApp } from './support/portal-harness.js';

@Injectable()
class Inbox {
  readonly messages: MesaClientMessage[] = [];
  @OnMesaMessage()
  onMessage(message: MesaClientMessage) {
    this.messages.push(message);
  }
}

describe('Portal frames from Redis and from clients are validated', () => {
  it('logs and ignores frames that are not JSON, have the wrong shape or are too large, and keeps working', async () => {
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, portal: true, namespace: 'chat' });
    const logger = new RecordingLogger();
    const app = await startPortalApp(
      redis.url,
      { id: 'strict', maxFrameBytes: 2048 },
      { providers: [Inbox], logger, options: { namespace: 'chat' } },
    );
    const db = redis.client();
    const inbox = app.get(Inbox);
    const sender = await PortalSender.connect(mesa.url(0), 'alice');
    try {
      await eventually(async () => (await poolMembers(db, 'chat')).includes('strict'), 10_000, 'portal joined');
      await sleep(200);
      const bad = [
        'not json {',
        '[1,2,3]',
        '"a string"',
        JSON.stringify({ type: 'message', portalId: 'strict' }),
        JSON.stringify({ type: 'message', portalId: 'strict', message: { op: 'zero', d: 1 } }),
        '{"type":"message","message":{"op":"zero","d":1},"clientId":"x","portalId":"strict"}',
        JSON.stringify({ type: 'message', portalId: 'strict', message: { op: 0, t: { evil: true } } }),
        JSON.stringify({ type: 'message', portalId: 'strict', clientId: { id: 1 }, message: { op: 0 } }),
        JSON.stringify({ type: 'explode', portalId: 'strict' }),
        JSON.stringify({ type: 'message', message: { op: 0, t: 'X' } }),
        JSON.stringify({ type: 'message', portalId: 'strict', message: { op: 0, t: 'BIG', d: 'x'.repeat(5000) } }),
      ];
      for (const frame of bad) await db.publish('portal_chat', frame);
      // a frame of a kind no handler takes is ignored without being read, valid or not
      await db.publish('portal_chat', JSON.stringify({ type: 'authentication', portalId: 'strict' }));
      await db.publish(
        'portal_chat',
        JSON.stringify({ type: 'message', portalId: 'strict', clientId: 42, message: { op: 3, d: [1], t: 'OK', s: 9 } }),
      );
      await db.publish('portal_chat', JSON.stringify({ type: 'message', portalId: 'someone-else', message: { op: 0, t: 'NOT_MINE' } }));
      sender.send('CLIENT_FRAME', { hello: 'world' });
      sender.send(undefined, 'no type', 4);

      await eventually(() => inbox.messages.length >= 3, 10_000, 'the valid frames');
      await sleep(200);
      expect(inbox.messages).toEqual([
        { clientId: '42', op: 3, data: [1], type: 'OK', sequence: 9 },
        { clientId: 'alice', op: 0, data: { hello: 'world' }, type: 'CLIENT_FRAME' },
        { clientId: 'alice', op: 4, data: 'no type' },
      ]);
      const warnings = logger.lines
        .filter((l) => l.level === 'warn' && /ignored a frame on portal_chat/.test(l.message))
        .map((l) => l.message);
      expect(warnings.length).toBe(bad.length);
      for (const reason of [
        'not JSON',
        'not a JSON object',
        'message is not an object',
        'message.op is not a number',
        'message.t is not a string',
      ]) {
        expect(warnings.some((w) => w.includes(reason))).toBe(true);
      }
      expect(warnings.some((w) => w.includes('larger than maxFrameBytes (2048)'))).toBe(true);
      expect(logger.text()).not.toContain('xxxxxxxx');
    } finally {
      sender.close();
      await app.close();
      db.disconnect();
      await mesa.stop();
      await redis.stop();
    }
  });
});
