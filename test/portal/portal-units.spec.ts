import { MesaConfigurationError, validatePortalOptions } from '../../lib/index.js';
import { LogThrottle } from '../../lib/portal/log-throttle.js';
import { PortalHandlerSet } from '../../lib/portal/portal-handler-set.js';
import { parsePortalFrame } from '../../lib/portal/portal-protocol.js';
import { mesaRedisNames } from '../../lib/redis/mesa-redis-names.js';
import { PortalWorkQueue } from '../../lib/portal/portal-work-queue.js';
import type { MesaPortalHandler } from '../../lib/portal/portal-explorer.js';

describe('parsePortalFrame', () => {
  it('reads the four event kinds as Mesa 1.5.8 publishes them', () => {
    expect(parsePortalFrame('{"type":"connection","portalId":"p"}', 1000)).toEqual({
      ok: true,
      event: { type: 'connection', portalId: 'p' },
    });
    expect(parsePortalFrame('{"type":"authentication","clientId":"a","portalId":"p"}', 1000)).toEqual({
      ok: true,
      event: { type: 'authentication', portalId: 'p', clientId: 'a' },
    });
    expect(parsePortalFrame('{"type":"disconnection","portalId":"p"}', 1000)).toEqual({
      ok: true,
      event: { type: 'disconnection', portalId: 'p' },
    });
    expect(parsePortalFrame('{"type":"message","message":{"op":0,"d":{"i":1},"t":"TYPING"},"clientId":"a","portalId":"p"}', 1000)).toEqual({
      ok: true,
      event: { type: 'message', portalId: 'p', clientId: 'a', message: { op: 0, data: { i: 1 }, type: 'TYPING', clientId: 'a' } },
    });
  });

  it.each([
    ['{', 'not JSON'],
    ['null', 'not a JSON object'],
    ['{"type":"message","portalId":""}', 'portalId is not a non-empty string'],
    ['{"type":"message","portalId":"p","message":[]}', 'message is not an object'],
    ['{"type":"message","portalId":"p","message":{"op":null}}', 'message.op is not a number'],
    ['{"type":"message","portalId":"p","message":{"op":0,"s":"1"}}', 'message.s is not a number'],
    ['{"type":"message","portalId":"p","clientId":true,"message":{"op":0}}', 'clientId is not a string'],
    ['{"type":"authentication","portalId":"p"}', 'authentication without clientId'],
    ['{"type":"__proto__","portalId":"p"}', 'type is not connection, authentication, message or disconnection'],
  ])('rejects %s (%s)', (raw, reason) => {
    expect(parsePortalFrame(raw, 1000)).toEqual({ ok: false, reason });
  });

  it('rejects a frame over the byte limit before parsing it, counting UTF-8 bytes', () => {
    expect(parsePortalFrame(`{"type":"connection","portalId":"${'é'.repeat(40)}"}`, 80)).toEqual({
      ok: false,
      reason: 'frame larger than maxFrameBytes (80)',
    });
  });

  it('names the Redis keys as Mesa does', () => {
    const { portalEvents, portalPool, portalHeartbeats } = mesaRedisNames();
    expect({ portalEvents, portalPool, portalHeartbeats }).toEqual({
      portalEvents: 'portal',
      portalPool: 'available_portals_pool',
      portalHeartbeats: 'portal_heartbeats',
    });
    expect(mesaRedisNames('chat').portalPool).toBe('available_portals_pool_chat');
  });
});

describe('validatePortalOptions', () => {
  it('accepts absence and full options', () => {
    expect(() => validatePortalOptions(undefined)).not.toThrow();
    expect(() =>
      validatePortalOptions({
        enabled: true,
        id: 'pod-1',
        reportAllEvents: false,
        concurrency: 4,
        maxQueued: 0,
        heartbeatTtl: 300,
        leaveGrace: 0,
        drainTimeout: 0,
        maxFrameBytes: 1,
      }),
    ).not.toThrow();
  });

  it('names where the error is', () => {
    expect(() => validatePortalOptions({ enabled: true, concurrency: 1.5 }, 'MyApp')).toThrow(
      new MesaConfigurationError('MyApp: portal.concurrency must be a whole number of handlers, at least 1; got number.'),
    );
  });
});

describe('PortalWorkQueue', () => {
  it('runs at most `concurrency` tasks, queues at most `maxQueued`, refuses beyond, and drains', async () => {
    const queue = new PortalWorkQueue(2, 3);
    const releases: Array<() => void> = [];
    let running = 0;
    let max = 0;
    const task = () =>
      new Promise<void>((resolve) => {
        running++;
        max = Math.max(max, running);
        releases.push(() => (running--, resolve()));
      });
    const taken = Array.from({ length: 8 }, () => queue.push(task));
    expect(taken).toEqual([true, true, true, true, true, false, false, false]);
    expect(queue.size).toBe(5);
    expect(await queue.drain(10)).toBe(false);
    const drained = queue.drain(5_000);
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await drained).toBe(true);
    expect(max).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('keeps going when a task rejects', async () => {
    const queue = new PortalWorkQueue(1, 1);
    let ran = false;
    queue.push(() => Promise.reject(new Error('boom')));
    queue.push(async () => void (ran = true));
    expect(await queue.drain(1_000)).toBe(true);
    expect(ran).toBe(true);
  });
});

describe('LogThrottle', () => {
  it('admits `limit` lines per window, then reports how many it held back', () => {
    const throttle = new LogThrottle(2, 1_000);
    expect([throttle.admit('k', 0), throttle.admit('k', 1), throttle.admit('k', 2), throttle.admit('k', 3)]).toEqual([
      '',
      '',
      undefined,
      undefined,
    ]);
    expect(throttle.admit('other', 4)).toBe('');
    expect(throttle.admit('k', 1_000)).toBe(' (2 similar lines suppressed before this one)');
  });
});

describe('PortalHandlerSet', () => {
  const handler = (name: string, event: MesaPortalHandler['event'], messageType?: string): MesaPortalHandler => ({
    name,
    event,
    messageType,
    invoke: async () => undefined,
  });
  const set = new PortalHandlerSet([handler('any', 'message'), handler('typing', 'message', 'TYPING'), handler('auth', 'authentication')]);
  const message = (type?: string) => ({ type: 'message' as const, portalId: 'p', message: { op: 0, data: null, type } });

  it('selects handlers by event kind and message type; untyped handlers see every message', () => {
    expect(set.for(message('TYPING')).map((h) => h.name)).toEqual(['any', 'typing']);
    expect(set.for(message('READ')).map((h) => h.name)).toEqual(['any']);
    expect(set.for(message('constructor')).map((h) => h.name)).toEqual(['any']);
    expect(set.for({ type: 'authentication', portalId: 'p', clientId: 'a' }).map((h) => h.name)).toEqual(['auth']);
    expect(set.for({ type: 'connection', portalId: 'p' })).toEqual([]);
    expect(set.size).toBe(3);
  });
});
