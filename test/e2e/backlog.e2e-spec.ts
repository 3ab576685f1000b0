import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { Message, MesaBacklog, MesaModule, MesaRedisError, MesaValidationError } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { useMesaStack } from '../support/mesa-stack.js';
import type { MesaUser, ReceivedMessage } from '../support/mesa-user.js';
import { RecordingLogger } from '../support/recording-logger.js';

const { Dispatcher: OriginalDispatcher, Message: OriginalMessage } = createRequire(import.meta.url)('@cryb/mesa');
const KEY = 'undelivered_messages_chat';

// MesaBacklog against real Mesa servers: what peek() says a user will receive is what a real
// server redelivers when that user's socket authenticates.
describe('MesaBacklog: the messages stored for offline users, as real Mesa servers redeliver them', () => {
  const logger = new RecordingLogger();
  const stack = useMesaStack({ replicas: 2, namespace: 'chat', sync: true, logger });
  let backlog: MesaBacklog;
  beforeAll(() => {
    backlog = stack.moduleRef.get(MesaBacklog);
  });
  afterEach(() => stack.db.del(KEY));
  /**
   * What the user received after login: Mesa sends a backlog one message per timer tick, so wait for
   * `expected` messages, then for a live message sent behind them, then a little more for any extra.
   */
  const receivedAfterLogin = async (user: MesaUser, expected: number): Promise<ReceivedMessage[]> => {
    const redelivered = () => user.received.filter((message) => message.t !== 'SENTINEL');
    await stack.online(user.id);
    await user.waitFor(() => redelivered().length >= expected, 5_000, `${expected} redelivered`);
    await stack.dispatcher.dispatch(new Message(0, {}, 'SENTINEL'), [user.id]);
    await user.waitFor((u) => u.of('SENTINEL').length === 1, 5_000, 'the sentinel');
    await user.quietFor(300);
    return redelivered();
  };

  it('peek() before login equals what the Mesa server redelivers after login, s included', async () => {
    await stack.dispatcher.dispatch(new Message(0, { text: 'hello', n: 1 }, 'NEW_MESSAGE'), ['bob']);
    await stack.dispatcher.dispatch(new Message(0, undefined, 'PING'), ['bob']);
    await stack.dispatcher.dispatch(new Message(0, 'no type'), ['bob']);
    await stack.dispatcher.dispatch(new Message(0, null, 'NULL_DATA', { sync: true }), ['bob']); // stored with "o"
    await stack.dispatcher.dispatch(new Message(0, { skipped: true }, 'TYPING', { sync: false }), ['bob']); // never stored
    await stack.dispatcher.dispatch(new Message(3, ['a', { b: 'c,]"}' }], 'ODD_OPCODE'), ['bob']);
    const original = new OriginalDispatcher(stack.redis.url, { namespace: 'chat', sync: { enabled: true } });
    original.dispatch(new OriginalMessage(0, { from: 'original' }, 'NEW_MESSAGE'), ['bob']);
    await eventually(async () => (await backlog.count('bob')) === 6, 5_000, 'the original Dispatcher’s append');
    original.redis.disconnect();
    original.publisher.disconnect();

    const peeked = await backlog.peek('bob');
    expect(peeked.map((message) => message.s)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(peeked[1]).toEqual({ op: 0, t: 'PING', s: 2 });
    expect(Object.keys(peeked[3])).toEqual(['op', 'd', 't', 's']); // no "o": Mesa never sends it
    const bob = await stack.connect(1, 'bob');
    const received = await receivedAfterLogin(bob, peeked.length);

    expect(received).toEqual(peeked);
    await eventually(async () => (await backlog.count('bob')) === 0, 5_000, 'the server to delete what it redelivered');
  });

  it('fields beside op, d and t in a stored entry (e.g. a future expiry time) are neither peeked nor received', async () => {
    const stored = [
      { op: 0, d: { n: 1 }, t: 'NOTE', x: 1_900_000_000_000 },
      { op: 0, d: { n: 2 }, t: 'NOTE', o: { sync: true }, extra: { nested: [1, 2] } },
    ];
    await stack.db.hset(KEY, 'carol', JSON.stringify(stored));

    expect(await backlog.count('carol')).toBe(2);
    const peeked = await backlog.peek('carol');
    expect(peeked).toEqual([
      { op: 0, d: { n: 1 }, t: 'NOTE', s: 1 },
      { op: 0, d: { n: 2 }, t: 'NOTE', s: 2 },
    ]);
    const carol = await stack.connect(0, 'carol');
    expect(await receivedAfterLogin(carol, 2)).toEqual(peeked);
  });

  it('peek(id, limit) returns the oldest messages, numbered as the server numbers them', async () => {
    for (let n = 1; n <= 25; n++) await stack.dispatcher.dispatch(new Message(0, { n }, 'NEW_MESSAGE'), ['dave']);

    const firstThree = await backlog.peek('dave', 3);
    expect(firstThree).toEqual([1, 2, 3].map((n) => ({ op: 0, d: { n }, t: 'NEW_MESSAGE', s: n })));
    expect(await backlog.peek('dave', 100)).toHaveLength(25);
    expect(await backlog.peek('nobody')).toEqual([]);
    const all = await backlog.peek('dave');
    expect(all.slice(0, 3)).toEqual(firstThree);
    const dave = await stack.connect(0, 'dave');
    expect(await receivedAfterLogin(dave, 25)).toEqual(all);
  });

  it('clear() removes atomically and says how many; the user then logs in to nothing', async () => {
    for (let n = 1; n <= 3; n++) await stack.dispatcher.dispatch(new Message(0, { n }, 'NEW_MESSAGE'), ['erin', 'frank']);

    expect(await backlog.clear('erin')).toBe(3);
    expect(await backlog.count('erin')).toBe(0);
    expect(await backlog.clear('erin')).toBe(0);
    expect(await backlog.count('frank')).toBe(3);
    const erin = await stack.connect(1, 'erin');
    expect(await receivedAfterLogin(erin, 0)).toEqual([]);
  });

  it('counts, peeks and clears a 10,000-message backlog', async () => {
    const messages = Array.from({ length: 10_000 }, (_, n) => ({
      op: 0,
      d: { n, text: `a "quoted", [bracketed] {text} \\ ${n}` },
      t: 'BULK',
    }));
    await stack.db.hset(KEY, 'gina', JSON.stringify(messages));

    expect(await backlog.count('gina')).toBe(10_000);
    expect(await backlog.peek('gina', 2)).toEqual([
      { ...messages[0], s: 1 },
      { ...messages[1], s: 2 },
    ]);
    expect((await backlog.peek('gina')).at(-1)).toEqual({ ...messages[9_999], s: 10_000 });
    expect(await backlog.clear('gina')).toBe(10_000);
  });

  it('users() lists thousands of users with stored messages, each exactly once', async () => {
    const ids = Array.from({ length: 3_000 }, (_, n) => `user-${n}`);
    const pipeline = stack.db.pipeline();
    for (const id of ids) pipeline.hset(KEY, id, JSON.stringify([{ op: 0, d: { for: id, padding: 'x'.repeat(100) }, t: 'X' }]));
    await pipeline.exec();

    const seen: string[] = [];
    for await (const id of backlog.users({ count: 100 })) seen.push(id);

    expect(seen).toHaveLength(3_000);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(logger.lines.filter((line) => /no HSCAN NOVALUES/.test(line.message))).toHaveLength(1); // Redis 7.0 here
    const again: string[] = [];
    for await (const id of backlog.users()) again.push(id);
    expect(again).toHaveLength(3_000);
  });

  it('honours the namespace: the un-namespaced backlog is another one', async () => {
    await stack.dispatcher.dispatch(new Message(0, { ns: 'chat' }, 'NEW_MESSAGE'), ['hana']);
    await stack.db.hset('undelivered_messages', 'hana', JSON.stringify([1, 2, 3, 4, 5].map((n) => ({ op: 0, d: n, t: 'BARE' }))));
    const { moduleRef: bareRef } = await createMesaModule({ url: stack.redis.url, isGlobal: false });
    try {
      const bare = bareRef.get(MesaBacklog);
      expect(await backlog.count('hana')).toBe(1);
      expect(await bare.count('hana')).toBe(5);
      expect(await bare.clear('hana')).toBe(5);
      expect(await backlog.peek('hana')).toEqual([{ op: 0, d: { ns: 'chat' }, t: 'NEW_MESSAGE', s: 1 }]);
    } finally {
      await bareRef.close();
    }
  });

  it('a stored value that is not a JSON array fails count/peek clearly; clear() removes it', async () => {
    await stack.db.hset(KEY, 'ivan', '{"op":0}');
    await stack.db.hset(KEY, 'jill', '[{"op":0,"d":1}');

    for (const id of ['ivan', 'jill']) {
      await expect(backlog.count(id)).rejects.toThrow(
        `The messages stored for "${id}" in 'undelivered_messages_chat' are not a JSON array, so a Mesa server would redeliver none of them and keep them. Remove them with clear("${id}").`,
      );
      await expect(backlog.peek(id)).rejects.toBeInstanceOf(MesaRedisError);
      expect(await backlog.clear(id)).toBe(0);
      expect(await stack.db.hexists(KEY, id)).toBe(0);
    }
  });

  it('keys of the wrong type fail with an error naming the key and the fix', async () => {
    await stack.db.set('undelivered_messages_broken', 'not a hash');
    const { moduleRef: brokenRef } = await createMesaModule({ url: stack.redis.url, namespace: 'broken', isGlobal: false });
    try {
      const broken = brokenRef.get(MesaBacklog);
      const wrongType = /Redis key 'undelivered_messages_broken' is not a HASH \(the messages stored for offline users\) \(WRONGTYPE\)/;
      await expect(broken.count('a')).rejects.toThrow(wrongType);
      await expect(broken.peek('a')).rejects.toThrow(wrongType);
      await expect(broken.clear('a')).rejects.toThrow(wrongType);
      await expect(broken.users().next()).rejects.toThrow(wrongType);
      expect(await stack.db.get('undelivered_messages_broken')).toBe('not a hash');
    } finally {
      await brokenRef.close();
      await stack.db.del('undelivered_messages_broken');
    }
  });

  it('refuses bad ids and limits', async () => {
    const refused = [
      () => backlog.count(''),
      () => backlog.count(['a'] as never),
      () => backlog.peek('a', 0),
      () => backlog.peek('a', 1.5),
      () => backlog.peek('a', '3' as never),
      () => backlog.clear('*'),
      () => backlog.clear('\uDC00x'),
      async () => backlog.users({ count: -1 }),
    ];
    for (const call of refused) await expect(call()).rejects.toThrow(MesaValidationError);
    await expect(backlog.peek('a', 0)).rejects.toThrow('limit must be a whole number from 1 to 9007199254740991; got 0.');
  });

  it('clear() refuses, removing nothing, while Redis is not connected', async () => {
    await stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'NEW_MESSAGE'), ['kim']);
    const client = new Redis(stack.redis.url);
    const appRef = await (
      await import('@nestjs/testing')
    ).Test.createTestingModule({
      imports: [MesaModule.forRoot({ client, namespace: 'chat', isGlobal: false })],
    }).compile();
    await appRef.init();
    try {
      const ended = new Promise((resolve) => client.once('end', resolve));
      client.disconnect();
      await ended;
      await expect(appRef.get(MesaBacklog).clear('kim')).rejects.toThrow(/Redis is not connected \(end\); nothing was removed/);
      expect(await backlog.count('kim')).toBe(1);
    } finally {
      await appRef.close();
    }
  });
});
