import { jest } from '@jest/globals';
import fc from 'fast-check';
import { eventually } from '../support/mesa-app.js';
import { MesaConfigurationError, validatePortalOptions } from '../../lib/index.js';
import { LogThrottle } from '../../lib/logging/log-throttle.js';
import { PortalHandlerSet } from '../../lib/portal/portal-handler-set.js';
import { parsePortalFrame } from '../../lib/portal/portal-protocol.js';
import { mesaRedisNames } from '../../lib/redis/mesa-redis-names.js';
import { PortalWorkQueue, type PortalWorkEvents } from '../../lib/portal/portal-work-queue.js';
import { readFrameAddress } from '../../lib/portal/portal-frame-address.js';
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
        maxQueuedBytes: 1,
        maxClientShare: 1,
        handlerTimeout: 1,
        heartbeatTtl: 300,
        leaveGrace: 0,
        drainTimeout: 0,
        maxFrameBytes: 1,
      }),
    ).not.toThrow();
  });

  it.each([
    [{ maxClientShare: 0 }, 'portal.maxClientShare must be a number above 0 and at most 1 (1: no per-client bound); got number.'],
    [{ maxClientShare: 1.5 }, 'portal.maxClientShare must be a number above 0 and at most 1 (1: no per-client bound); got number.'],
    [{ handlerTimeout: 0 }, 'portal.handlerTimeout must be a whole number of milliseconds, at least 1; got number.'],
    [{ maxQueuedBytes: 0 }, 'portal.maxQueuedBytes must be a whole number of bytes, at least 1; got number.'],
    [
      { maxQueuedBytes: 1_000 },
      'portal.maxQueuedBytes (1000) must be at least portal.maxFrameBytes (1048576), or no frame of that size could ever be handled. Raise maxQueuedBytes or lower maxFrameBytes.',
    ],
  ])('rejects %j', (options, message) => {
    expect(() => validatePortalOptions({ enabled: true, ...options })).toThrow(new MesaConfigurationError(`MesaModule: ${message}`));
  });

  it('names where the error is', () => {
    expect(() => validatePortalOptions({ enabled: true, concurrency: 1.5 }, 'MyApp')).toThrow(
      new MesaConfigurationError('MyApp: portal.concurrency must be a whole number of handlers, at least 1; got number.'),
    );
  });
});

describe('PortalWorkQueue', () => {
  type Work = { client: string; bytes: number; n?: number };
  const limits = { concurrency: 2, maxQueued: 3, maxQueuedBytes: 1_000, maxClientShare: 1, handlerTimeout: 60_000 };
  const quiet: PortalWorkEvents<Work> = { hung: () => undefined, stalled: () => undefined };
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  /** A queue whose works wait until released, in the order they started. */
  function gated(options: Partial<typeof limits> = {}, events = quiet) {
    const started: Work[] = [];
    const releases: Array<() => void> = [];
    const queue = new PortalWorkQueue<Work>(
      { ...limits, ...options },
      (work) =>
        new Promise<void>((resolve) => {
          started.push(work);
          releases.push(resolve);
        }),
      events,
    );
    const releaseAll = async () => {
      while (releases.length > 0) {
        releases.shift()!();
        await tick();
      }
    };
    return { queue, started, releases, releaseAll };
  }

  it('runs at most `concurrency` works, queues at most `maxQueued`, refuses beyond, and drains', async () => {
    const { queue, started, releaseAll } = gated();
    const taken = Array.from({ length: 7 }, (_, n) => queue.push({ client: 'a', bytes: 1, n }));
    expect(taken).toEqual(['started', 'started', 'queued', 'queued', 'queued', 'maxQueued', 'maxQueued']);
    expect([queue.size, queue.handling, queue.waiting, queue.heldBytes]).toEqual([5, 2, 3, 5]);
    expect(await queue.drain(10)).toBe(false);
    const drained = queue.drain(5_000);
    await releaseAll();
    expect(await drained).toBe(true);
    expect(started.map((work) => work.n)).toEqual([0, 1, 2, 3, 4]);
    expect([queue.size, queue.heldBytes]).toEqual([0, 0]);
  });

  it('bounds the bytes held (running and waiting), and frees them as works settle', async () => {
    const { queue, releases } = gated({ maxQueuedBytes: 100 });
    expect(queue.push({ client: 'a', bytes: 60 })).toBe('started');
    expect(queue.push({ client: 'b', bytes: 50 })).toBe('maxQueuedBytes');
    expect(queue.push({ client: 'b', bytes: 40 })).toBe('started');
    expect(queue.heldBytes).toBe(100);
    releases.shift()!();
    await tick();
    expect(queue.heldBytes).toBe(40);
    expect(queue.push({ client: 'b', bytes: 50 })).toBe('started');
  });

  it("bounds each client's share of what waits and of the bytes; unauthenticated works share one key; clients are served in turn", async () => {
    const { queue, started, releaseAll } = gated({ concurrency: 1, maxQueued: 10, maxQueuedBytes: 100, maxClientShare: 0.3 });
    expect(queue.push({ client: 'flood', bytes: 1, n: 0 })).toBe('started');
    const flood = Array.from({ length: 5 }, (_, i) => queue.push({ client: 'flood', bytes: 1, n: i + 1 }));
    expect(flood).toEqual(['queued', 'queued', 'queued', 'maxClientShare', 'maxClientShare']);
    expect(queue.push({ client: 'bob', bytes: 1, n: 100 })).toBe('queued');
    expect(queue.push({ client: 'bob', bytes: 1, n: 101 })).toBe('queued');
    expect(queue.push({ client: 'big', bytes: 30, n: 200 })).toBe('queued');
    expect(queue.push({ client: 'big', bytes: 1 })).toBe('maxClientShare');
    await releaseAll();
    expect(started.map((work) => work.n)).toEqual([0, 1, 100, 200, 2, 101, 3]);
  });

  it('frees the slot of a work that outlives handlerTimeout; as many unsettled as `concurrency` stall the queue until one settles', async () => {
    jest.useFakeTimers();
    try {
      const hung: Work[] = [];
      const stalls: boolean[] = [];
      const { queue, started, releases } = gated(
        { handlerTimeout: 1_000 },
        { hung: (work: Work) => hung.push(work), stalled: (stalled: boolean) => stalls.push(stalled) },
      );
      for (let n = 0; n < 5; n++) queue.push({ client: 'a', bytes: 10, n });
      await jest.advanceTimersByTimeAsync(900);
      expect(hung).toEqual([]);
      await jest.advanceTimersByTimeAsync(200);
      expect(hung.map((work) => work.n)).toEqual([0, 1]);
      expect(stalls).toEqual([true]);
      expect(started.map((work) => work.n)).toEqual([0, 1, 2]);
      expect([queue.stalled, queue.abandoned, queue.handling, queue.waiting, queue.heldBytes]).toEqual([true, 2, 1, 2, 50]);
      releases[0]!();
      await jest.advanceTimersByTimeAsync(0);
      expect(stalls).toEqual([true, false]);
      expect([queue.stalled, queue.abandoned, queue.handling, queue.waiting, queue.heldBytes]).toEqual([false, 1, 2, 1, 40]);
      expect(started.map((work) => work.n)).toEqual([0, 1, 2, 3]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('drains a stalled queue once nothing runs: what waits there cannot start', async () => {
    jest.useFakeTimers();
    try {
      const { queue } = gated({ concurrency: 1, handlerTimeout: 1_000 });
      for (let n = 0; n < 3; n++) queue.push({ client: 'a', bytes: 1, n });
      await jest.advanceTimersByTimeAsync(1_100);
      expect([queue.stalled, queue.handling, queue.waiting]).toEqual([true, 0, 2]);
      expect(await queue.drain(1_000)).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('close() drops what waits, starts nothing more and takes nothing more', async () => {
    const { queue, started, releaseAll } = gated();
    for (let n = 0; n < 5; n++) queue.push({ client: 'a', bytes: 1, n });
    expect(queue.close()).toBe(3);
    expect(queue.push({ client: 'a', bytes: 1 })).toBe('closed');
    await releaseAll();
    expect(started.map((work) => work.n)).toEqual([0, 1]);
    expect([queue.size, queue.heldBytes]).toEqual([0, 0]);
  });

  it('keeps going when a work rejects', async () => {
    let ran = false;
    const queue = new PortalWorkQueue<Work>(
      { ...limits, concurrency: 1 },
      (work) => (work.n === 0 ? Promise.reject(new Error('boom')) : Promise.resolve(void (ran = true))),
      quiet,
    );
    queue.push({ client: 'a', bytes: 1, n: 0 });
    queue.push({ client: 'a', bytes: 1, n: 1 });
    expect(await queue.drain(1_000)).toBe(true);
    expect(ran).toBe(true);
  });
});

describe('readFrameAddress', () => {
  /** What a Mesa 1.5.8 server publishes (`Object.assign({}, internalMessage, { portalId })`). */
  const mesaFrame = (event: object, portalId: string) => JSON.stringify(Object.assign({}, event, { portalId }));

  it('reads the portal, the client and the kind of the frames Mesa writes, without parsing them', () => {
    expect(readFrameAddress(mesaFrame({ type: 'message', message: { op: 0, d: { x: 1 }, t: 'T' }, clientId: 'alice' }, 'p-1'))).toEqual({
      type: 'message',
      portalId: 'p-1',
      clientId: 'alice',
    });
    expect(readFrameAddress(mesaFrame({ type: 'message', message: { op: 0, d: { clientId: 'x' } } }, 'p'))).toEqual({
      type: 'message',
      portalId: 'p',
    });
    expect(readFrameAddress(mesaFrame({ type: 'authentication', clientId: 42 }, 'p'))).toEqual({
      type: 'authentication',
      portalId: 'p',
      clientId: '42',
    });
    expect(readFrameAddress(mesaFrame({ type: 'connection' }, 'a"b\\'))).toEqual({ type: 'connection', portalId: 'a"b\\' });
    expect(readFrameAddress(mesaFrame({ type: 'message', message: { op: 0, d: '","portalId":"victim"}' } }, 'p'))?.portalId).toBe('p');
  });

  it('returns undefined for another layout (the frame is then parsed)', () => {
    expect(readFrameAddress('{"portalId":"p","type":"connection"}')).toBeUndefined();
    expect(readFrameAddress('{"type":"connection","portalId":7}')).toBeUndefined();
    expect(readFrameAddress('not json')).toBeUndefined();
    expect(readFrameAddress('')).toBeUndefined();
  });

  it('agrees with JSON.parse on every frame a Mesa server can publish, and never claims a portal for other JSON', () => {
    const id = fc.string({ minLength: 1, maxLength: 30, unit: 'binary' });
    const event = fc.oneof(
      fc.record({ type: fc.constant('connection') }),
      fc.record(
        { type: fc.constantFrom('authentication', 'disconnection'), clientId: fc.oneof(id, fc.integer()) },
        { requiredKeys: ['type'] },
      ),
      fc.record(
        { type: fc.constant('message'), message: fc.record({ op: fc.integer(), d: fc.jsonValue(), t: fc.string() }), clientId: id },
        { requiredKeys: ['type', 'message'] },
      ),
    );
    fc.assert(
      fc.property(event, id, (e, portalId) => {
        const raw = mesaFrame(e, portalId);
        const parsed = JSON.parse(raw) as { type: string; clientId?: string | number };
        const expected: Record<string, string> = { type: parsed.type, portalId };
        if (parsed.clientId !== undefined) expected.clientId = String(parsed.clientId);
        expect(readFrameAddress(raw)).toEqual(expected);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const raw = JSON.stringify(value);
        const address = readFrameAddress(raw);
        expect(address === undefined || address.portalId === (value as { portalId: unknown }).portalId).toBe(true);
      }),
    );
  });
});

describe('LogThrottle', () => {
  it('writes `limit` lines per key and window, then sums up the lines held back, once, at the end of the window', () => {
    const lines: string[] = [];
    const throttle = new LogThrottle(
      { warn: (line) => lines.push(`warn ${line}`), error: (line) => lines.push(`error ${line}`) },
      { limit: 2, windowMs: 1_000 },
    );
    for (let n = 1; n <= 5; n++) throttle.error('k', `k failed ${n}`);
    throttle.warn('other', 'other 1');
    expect(lines).toEqual(['error k failed 1', 'error k failed 2', 'warn other 1']);
    throttle.flush();
    expect(lines.slice(3)).toEqual(['error k failed 5 (3 more like this in the last 1 s)']);
    throttle.error('k', 'k failed 6');
    throttle.flush();
    expect(lines.slice(4)).toEqual(['error k failed 6']);
  });

  it('ends its window by itself', async () => {
    const lines: string[] = [];
    const throttle = new LogThrottle({ warn: (line) => lines.push(line), error: (line) => lines.push(line) }, { limit: 1, windowMs: 20 });
    throttle.warn('k', 'a');
    throttle.warn('k', 'b');
    await eventually(() => lines.length === 2, 2_000, 'the sum');
    expect(lines).toEqual(['a', 'b (1 more like this in the last 0.02 s)']);
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
