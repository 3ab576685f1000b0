import { Message, MesaBacklog, MesaDispatchError, MesaRedisError } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { useMesaStack } from '../support/mesa-stack.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

const KEY = 'undelivered_messages';
const A = '{"op":0,"d":{"n":1},"t":"OLD"}';

/**
 * Texts a writer other than nestjs-mesa could leave in `undelivered_messages` that are bracketed like a JSON array
 * but that Mesa's server cannot read: it JSON.parses the text on login, redelivers nothing when that throws (and
 * keeps the text), and rebuilds each element as Message(op, d, t), which throws on null.
 */
const UNREADABLE: Array<[string, string]> = [
  ['a trailing comma', `[${A},]`],
  ['a bare word', `[${A}, nope]`],
  ['NaN', 'NaN'],
  ['NaN in an array', `[${A},NaN]`],
  ['Infinity', `[${A},Infinity]`],
  ['a leading zero', `[${A},01]`],
  ['a raw tab in a string', `[{"op":0,"d":"a\tb","t":"OLD"}]`],
  ['a null element', `[${A},null]`],
];

/** Texts Mesa reads although no JSON.stringify wrote them like that. */
const READABLE: Array<[string, string, number]> = [
  ['indented over lines', JSON.stringify([JSON.parse(A), { op: 0, d: { n: 2, s: 'a, [b] "c"' }, t: 'OLD' }], null, 2), 2],
  ['a lone surrogate escape', `[${A},{"op":0,"d":"\\ud800","t":"OLD"}]`, 2],
  ['an element that is not an object', `[${A},5]`, 2],
  ['an empty array with spaces', ' [ ] ', 0],
];

describe('backlogs another writer left: what Mesa cannot read is neither counted nor appended to (real Redis, real Mesa)', () => {
  const stack = useMesaStack({ replicas: 1, sync: true });
  let backlog: MesaBacklog;
  beforeAll(() => {
    backlog = stack.moduleRef.get(MesaBacklog);
  });
  afterEach(() => stack.db.del(KEY));
  /** Logs `id` in through the real Mesa server and returns what it redelivered (waiting for a live marker behind it). */
  const login = async (id: string): Promise<MesaUser> => {
    const user = await stack.connect(0, id);
    await stack.online(id);
    await stack.dispatcher.dispatch(new Message(0, {}, 'MARK'), [id]);
    await user.waitFor((u) => u.of('MARK').length === 1, 5_000, 'the live marker');
    await user.quietFor(200);
    return user;
  };

  it.each(UNREADABLE)('%s: count and peek fail, a dispatch is refused (not sent), and the text stays as it was', async (_what, text) => {
    await stack.db.hset(KEY, 'foreign', text);

    await expect(backlog.count('foreign')).rejects.toBeInstanceOf(MesaRedisError);
    await expect(backlog.peek('foreign')).rejects.toThrow(/not a JSON array.*clear\("foreign"\)/);
    const attempt = stack.dispatcher.dispatch(new Message(0, { n: 2 }, 'NEW'), ['foreign', 'other']);
    await expect(attempt).rejects.toBeInstanceOf(MesaDispatchError);
    await expect(attempt).rejects.toThrow(/user foreign is not a JSON array Mesa can read.*the message was not sent/);
    expect(await stack.db.hget(KEY, 'foreign')).toBe(text);
    expect(await stack.db.hexists(KEY, 'other')).toBe(0);
    expect(await stack.spy.received()).toEqual([]);
  });

  // Mesa's server emits the parse error (or throws the TypeError of null.op) on the login's Client, which nobody
  // listens to: the whole server process exits, every socket on it closed
  it.each(UNREADABLE)('%s: a real Mesa server indeed redelivers nothing, keeps the text (and exits)', async (_what, text) => {
    const own = await MesaCluster.start({ redisUrl: stack.redis.url, replicas: 1, sync: true });
    try {
      await stack.db.hset(KEY, 'premise', text);
      const user = await MesaUser.connect(own.url(), 'premise');
      await user.waitFor((u) => u.closeCode !== undefined, 5_000, 'the server to go away');
      expect(user.received).toEqual([]);
      expect(await stack.db.hget(KEY, 'premise')).toBe(text);
    } finally {
      await own.stop();
    }
  });

  it.each(READABLE)('%s: count and peek say what Mesa redelivers, and a dispatch appends to it', async (_what, text, count) => {
    await stack.db.hset(KEY, 'odd', text);
    expect(await backlog.count('odd')).toBe(count);
    const peeked = await backlog.peek('odd');

    const result = await stack.dispatcher.dispatch(new Message(0, { n: 9 }, 'NEW'), ['odd']);

    expect(result.storedFor).toEqual(['odd']);
    expect(await backlog.count('odd')).toBe(count + 1);
    expect((await backlog.peek('odd')).slice(0, count)).toEqual(peeked);
    const user = await login('odd');
    expect(user.received.filter((message) => message.t !== 'MARK')).toEqual([...peeked, { op: 0, d: { n: 9 }, t: 'NEW', s: count + 1 }]);
    await eventually(async () => (await stack.db.hexists(KEY, 'odd')) === 0, 5_000, 'the server to delete what it redelivered');
  });

  it.each(UNREADABLE)('%s: without Lua (WATCH/MULTI), the dispatch is refused as well', async (_what, text) => {
    const redis = await RedisServer.start(['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '']);
    const db = redis.client();
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } }, { logger: false });
    try {
      await db.hset(KEY, 'foreign', text);
      await expect(dispatcher.dispatch(new Message(0, { n: 2 }, 'NEW'), ['foreign'])).rejects.toThrow(
        /user foreign is not a JSON array Mesa can read.*the message was not sent/,
      );
      expect(await db.hget(KEY, 'foreign')).toBe(text);
    } finally {
      await moduleRef.close();
      db.disconnect();
      await redis.stop();
    }
  });
});
