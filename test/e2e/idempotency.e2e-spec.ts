import { Injectable } from '@nestjs/common';
import { Dispatch, DispatcherService, Message, MesaModule, MesaValidationError, getDispatcherToken } from '../../lib/index.js';
import { Test } from '@nestjs/testing';
import { useMesaStack } from '../support/mesa-stack.js';
import { withoutCount } from '../support/stored-backlog.js';

const WINDOW = 1_000;
const keyed = (n: number, key: string, options: { sync?: boolean } = {}) =>
  new Message(0, { n }, 'ORDER', { ...options, idempotencyKey: key });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Order {
  id: number;
  buyer: string;
}

@Injectable()
class Orders {
  @Dispatch('SHIPPED', { recipients: (order: Order) => [order.buyer], idempotencyKey: (order: Order) => `order-${order.id}:shipped` })
  async ship(order: Order): Promise<Order> {
    return order;
  }

  @Dispatch('SHIPPED', { recipients: (order: Order) => [order.buyer], idempotencyKey: () => '' })
  async shipWithoutKey(order: Order): Promise<Order> {
    return order;
  }
}

/** Idempotency keys through real Redis, real Mesa servers and Mesa's own client (the batch script). */
describe('idempotency keys: the same key twice within the window is one delivery', () => {
  const stack = useMesaStack({
    replicas: 1,
    sync: true,
    namespace: 'shop',
    module: { idempotency: { window: WINDOW } },
    providers: [Orders],
  });
  afterEach(() => stack.db.flushall());
  const stored = async (id: string) => withoutCount(JSON.parse((await stack.db.hget(stack.names.undeliveredMessages, id)) ?? '[]'));
  const online = async (id: string) => {
    const user = await stack.connect(0, id);
    await stack.online(id);
    return user;
  };

  it('one envelope, one stored copy: the second dispatch publishes and stores nothing and resolves with duplicate: true', async () => {
    const alice = await online('alice');
    const first = await stack.dispatcher.dispatch(keyed(1, 'order-1'), ['alice', 'bob']);
    const second = await stack.dispatcher.dispatch(keyed(1, 'order-1'), ['alice', 'bob']);

    expect(first).toEqual({ recipients: ['alice', 'bob'], publishedTo: ['alice'], storedFor: ['bob'], receivers: 2 });
    expect(second).toEqual({ recipients: ['alice', 'bob'], publishedTo: [], storedFor: [], receivers: 0, duplicate: true });
    expect((await stack.spy.received()).map((envelope) => envelope.message.d)).toEqual([{ n: 1 }]);
    expect((await stored('bob')).map((message) => message.d)).toEqual([{ n: 1 }]);
    await alice.waitFor((user) => user.of('ORDER').length === 1);
    await alice.quietFor(200);
    expect(alice.of('ORDER')).toHaveLength(1);
    // the key is never sent to clients
    expect(JSON.stringify(alice.received)).not.toContain('order-1');
    expect(JSON.stringify(await stack.spy.received())).not.toContain('order-1');
  });

  it('the same key twice in one batch: the first wins', async () => {
    const results = await Promise.all([
      stack.dispatcher.dispatch(keyed(1, 'same'), ['bob']),
      stack.dispatcher.dispatch(keyed(2, 'same'), ['bob']),
      stack.dispatcher.dispatch(keyed(3, 'other'), ['bob']),
    ]);
    expect(results.map((result) => result.duplicate ?? false)).toEqual([false, true, false]);
    expect((await stored('bob')).map((message) => message.d.n)).toEqual([1, 3]);
  });

  it('once the window has passed, the key is forgotten (Redis expiry) and the message is published again', async () => {
    await stack.dispatcher.dispatch(keyed(1, 'again'), ['bob']);
    const key = 'nestjs_mesa_idempotency_shop:default:again';
    const ttl = await stack.db.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW);
    await sleep(WINDOW + 100);
    expect(await stack.db.exists(key)).toBe(0);
    const later = await stack.dispatcher.dispatch(keyed(1, 'again'), ['bob']);
    expect(later.duplicate).toBeUndefined();
    expect((await stored('bob')).map((message) => message.d.n)).toEqual([1, 1]);
  });

  it('works for every kind of dispatch: a broadcast, a { sync: false } message, a broadcast with exclusions', async () => {
    await online('alice');
    const broadcast = () => stack.dispatcher.broadcast(keyed(1, 'all'));
    const unsynced = () => stack.dispatcher.dispatch(keyed(2, 'quiet', { sync: false }), ['alice', 'bob']);
    const except = () => stack.dispatcher.broadcast(keyed(3, 'except'), { excluding: [] });
    for (const send of [broadcast, unsynced, except]) {
      expect((await send()).duplicate).toBeUndefined();
      expect(await send()).toMatchObject({ publishedTo: [], storedFor: [], receivers: 0, duplicate: true });
    }
    expect((await stack.spy.received()).map((envelope) => envelope.message.d.n)).toEqual([1, 2, 3]);
    expect(await stored('bob')).toEqual([]);
  });

  it('keys are scoped by registration: another registration on the same Redis and namespace does not see them', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MesaModule.forRoot({ name: 'billing', url: stack.redis.url, namespace: 'shop', sync: { enabled: true } })],
    }).compile();
    await moduleRef.init();
    try {
      const billing = moduleRef.get<DispatcherService>(getDispatcherToken('billing'));
      await stack.dispatcher.dispatch(keyed(1, 'shared-key'), ['bob']);
      expect((await billing.dispatch(keyed(2, 'shared-key'), ['bob'])).duplicate).toBeUndefined();
      expect((await billing.dispatch(keyed(3, 'shared-key'), ['bob'])).duplicate).toBe(true);
      expect((await stored('bob')).map((message) => message.d.n)).toEqual([1, 2]);
      expect((await stack.db.keys('nestjs_mesa_idempotency_shop:*')).sort()).toEqual([
        'nestjs_mesa_idempotency_shop:billing:shared-key',
        'nestjs_mesa_idempotency_shop:default:shared-key',
      ]);
    } finally {
      await moduleRef.close();
    }
  });

  it("@Dispatch's idempotencyKey: a method called twice for one order dispatches once", async () => {
    const orders = stack.moduleRef.get(Orders);
    await orders.ship({ id: 7, buyer: 'bob' });
    await orders.ship({ id: 7, buyer: 'bob' });
    await orders.ship({ id: 8, buyer: 'bob' });
    expect((await stored('bob')).map((message) => message.d.id)).toEqual([7, 8]);
    expect(await stack.db.exists('nestjs_mesa_idempotency_shop:default:order-7:shipped')).toBe(1);
    await expect(orders.shipWithoutKey({ id: 9, buyer: 'bob' })).rejects.toThrow(MesaValidationError);
    await expect(orders.shipWithoutKey({ id: 9, buyer: 'bob' })).rejects.toThrow(
      /@Dispatch\('SHIPPED'\) on Orders.shipWithoutKey: what idempotencyKey returned must be a non-empty string/,
    );
  });

  it('refuses a key of the wrong type in Redis as not sent, publishing nothing, and names the key to delete', async () => {
    await stack.db.set('nestjs_mesa_idempotency_shop:default:squatted', 'x');
    await expect(stack.dispatcher.dispatch(keyed(1, 'squatted'), ['bob'])).rejects.toThrow(
      /WRONGTYPE: nestjs_mesa_idempotency_shop:default:squatted holds a string, not a set .*delete that key.*the message was not sent/,
    );
    expect(await stack.spy.received()).toEqual([]);
    expect(await stored('bob')).toEqual([]);
  });
});
