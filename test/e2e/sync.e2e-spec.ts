import { createRequire } from 'node:module';
import { DispatchEvent, Message, MesaDispatchError } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { useMesaStack } from '../support/mesa-stack.js';
import type { MesaUser } from '../support/mesa-user.js';
import { withoutCount } from '../support/stored-backlog.js';

const { Dispatcher: OriginalDispatcher, Message: OriginalMessage } = createRequire(import.meta.url)('@cryb/mesa');

describe('sync: storage for offline users and redelivery by real Mesa servers', () => {
  const stack = useMesaStack({ replicas: 2, namespace: 'chat', sync: true });
  afterEach(() => stack.db.del(stack.names.undeliveredMessages));
  const connect = async (replica: number, id: string, shouldSync = true) => {
    const user = await stack.connect(replica, id, { shouldSync });
    await stack.online(id);
    return user;
  };
  const leave = async (user: MesaUser) => {
    user.close();
    await stack.offline(user.id);
  };
  // the last stored message carries the backlog's count ("n"), which Mesa never sends to clients
  const stored = async (id: string) => withoutCount(JSON.parse((await stack.db.hget('undelivered_messages_chat', id)) ?? '[]'));

  it('publishes to online recipients and stores for offline ones, in Mesa’s format', async () => {
    const alice = await connect(0, 'alice');

    const result = await stack.dispatcher.dispatch(new Message(0, { text: 'hi' }, 'NEW_MESSAGE'), ['alice', 'bob', 'carol']);

    // receivers: the two Mesa replicas and the stack's channel spy
    expect(result).toEqual({ recipients: ['alice', 'bob', 'carol'], publishedTo: ['alice'], storedFor: ['bob', 'carol'], receivers: 3 });
    await alice.waitFor((u) => u.of('NEW_MESSAGE').length === 1);
    expect(await stored('bob')).toEqual([{ op: 0, d: { text: 'hi' }, t: 'NEW_MESSAGE' }]);
    expect(await stored('alice')).toEqual([]);
  });

  it('a real Mesa server redelivers what was stored, with sequence numbers 1..N, then clears it', async () => {
    for (let n = 1; n <= 5; n++) await stack.dispatcher.dispatch(new Message(0, { n }, 'NEW_MESSAGE'), ['bob']);

    const bob = await connect(1, 'bob');

    await bob.waitFor((u) => u.of('NEW_MESSAGE').length === 5, 5_000, 'five redelivered');
    expect(bob.of('NEW_MESSAGE').map((m) => [m.s, m.d.n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    await eventually(async () => (await stack.db.hexists('undelivered_messages_chat', 'bob')) === 0, 5_000, 'backlog cleared');
  });

  it('appends to a backlog the original Dispatcher wrote, and the server redelivers both', async () => {
    const original = new OriginalDispatcher(stack.redis.url, { namespace: 'chat', sync: { enabled: true } });
    original.dispatch(new OriginalMessage(0, { from: 'original' }, 'NEW_MESSAGE'), ['dave']);
    await eventually(async () => (await stored('dave')).length === 1, 5_000, 'original stored');
    original.redis.disconnect();
    original.publisher.disconnect();

    await stack.dispatcher.dispatch(new Message(0, { from: 'nestjs-mesa' }, 'NEW_MESSAGE'), ['dave']);
    const dave = await connect(0, 'dave');

    await dave.waitFor((u) => u.of('NEW_MESSAGE').length === 2);
    expect(dave.of('NEW_MESSAGE').map((m) => [m.s, m.d.from])).toEqual([
      [1, 'original'],
      [2, 'nestjs-mesa'],
    ]);
  });

  it('1000 concurrent dispatches to one offline user leave 1000 stored, in call order, redelivered 1..1000', async () => {
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => stack.dispatcher.dispatch(new Message(0, { n }, 'STORM'), ['erin'])),
    );

    expect(results.every((r) => r.storedFor[0] === 'erin')).toBe(true);
    expect((await stored('erin')).map((m: { d: { n: number } }) => m.d.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    const erin = await connect(0, 'erin');
    await erin.waitFor((u) => u.of('STORM').length === 1000, 10_000, '1000 redelivered');
    expect(erin.of('STORM').map((m) => m.s)).toEqual(Array.from({ length: 1000 }, (_, n) => n + 1));
  });

  it('300 dispatches to a 100-member room lose nothing for any offline member', async () => {
    const alice = await connect(0, 'alice');
    const room = ['alice', ...Array.from({ length: 99 }, (_, i) => `member-${i}`)];

    await Promise.all(Array.from({ length: 300 }, (_, n) => stack.dispatcher.dispatch(new Message(0, { n }, 'ROOM'), room)));

    await alice.waitFor((u) => u.of('ROOM').length === 300, 10_000, '300 live');
    for (const id of ['member-0', 'member-50', 'member-98']) expect(await stored(id)).toHaveLength(300);
    expect(await stack.db.hlen('undelivered_messages_chat')).toBe(99);
  });

  it('never stores messages marked { sync: false } nor internal events, but still publishes them', async () => {
    const alice = await connect(0, 'alice');

    const typing = await stack.dispatcher.dispatch(new Message(0, { typing: true }, 'TYPING', { sync: false }), ['alice', 'bob']);
    const kick = await stack.dispatcher.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['bob']);

    expect(typing.storedFor).toEqual([]);
    expect(kick.storedFor).toEqual([]);
    await alice.waitFor((u) => u.of('TYPING').length === 1);
    expect(await stack.db.hexists('undelivered_messages_chat', 'bob')).toBe(0);
    expect((await stack.spy.received())[0]).toEqual({
      message: { op: 0, d: { typing: true }, t: 'TYPING', o: { sync: false } },
      recipients: ['alice', 'bob'],
    });
  });

  it('a user who connects with shouldSync: false gets nothing redelivered and the backlog is dropped', async () => {
    await stack.dispatcher.dispatch(new Message(0, {}, 'OLD'), ['frank']);
    const frank = await connect(1, 'frank', false);

    await eventually(async () => (await stack.db.hexists('undelivered_messages_chat', 'frank')) === 0, 5_000, 'backlog dropped');
    await stack.dispatcher.dispatch(new Message(0, {}, 'NEW'), ['frank']);
    await frank.waitFor((u) => u.of('NEW').length === 1);
    expect(frank.of('OLD')).toEqual([]);
  });

  it('goes back to storing once a user leaves', async () => {
    const grace = await connect(0, 'grace');
    await stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'NEW_MESSAGE'), ['grace']);
    await grace.waitFor((u) => u.of('NEW_MESSAGE').length === 1);
    await leave(grace);

    const result = await stack.dispatcher.dispatch(new Message(0, { n: 2 }, 'NEW_MESSAGE'), ['grace']);

    expect(result.storedFor).toEqual(['grace']);
    expect((await stored('grace')).map((m: { d: { n: number } }) => m.d.n)).toEqual([2]);
  });

  it('refuses to touch a backlog that is not a JSON array: nothing stored, nothing published', async () => {
    await stack.db.hset('undelivered_messages_chat', 'heidi', 'not json');
    const alice = await connect(0, 'alice');

    const attempt = stack.dispatcher.dispatch(new Message(0, {}, 'NEW_MESSAGE'), ['alice', 'heidi', 'ivan']);

    await expect(attempt).rejects.toBeInstanceOf(MesaDispatchError);
    await expect(attempt).rejects.toThrow(/undelivered_messages field of user heidi is not a JSON array/);
    expect(await stack.db.hget('undelivered_messages_chat', 'heidi')).toBe('not json');
    expect(await stack.db.hexists('undelivered_messages_chat', 'ivan')).toBe(0);
    await stack.dispatcher.dispatch(new Message(0, {}, 'MARK'), ['alice']);
    await alice.waitFor((u) => u.of('MARK').length === 1);
    expect(alice.of('NEW_MESSAGE')).toEqual([]);
  });

  it('in one coalesced batch, a corrupt backlog fails only the dispatches that would store there', async () => {
    await stack.db.hset('undelivered_messages_chat', 'heidi', '{"not":"an array"}');

    const outcomes = await Promise.allSettled([
      stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'BATCH'), ['ivan']),
      stack.dispatcher.dispatch(new Message(0, { n: 2 }, 'BATCH'), ['heidi', 'ivan']),
      stack.dispatcher.dispatch(new Message(0, { n: 3 }, 'BATCH'), ['ivan']),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toMatch(
      /user heidi is not a JSON array Mesa can read .*; the message was not sent/,
    );
    expect((await stored('ivan')).map((m: { d: { n: number } }) => m.d.n)).toEqual([1, 3]);
  });

  it('keeps call order for a user who is in several recipient lists of one coalesced batch', async () => {
    const lists = [['kim'], ['kim', 'lee'], ['kim'], ['lee', 'kim'], ['lee'], ['kim', 'lee']];

    await Promise.all(lists.map((to, n) => stack.dispatcher.dispatch(new Message(0, { n }, 'MIXED'), to)));

    expect((await stored('kim')).map((m: { d: { n: number } }) => m.d.n)).toEqual([0, 1, 2, 3, 5]);
    expect((await stored('lee')).map((m: { d: { n: number } }) => m.d.n)).toEqual([1, 3, 4, 5]);
  });

  it('works again after SCRIPT FLUSH (reloads its script on NOSCRIPT)', async () => {
    await stack.db.script('FLUSH');
    const result = await stack.dispatcher.dispatch(new Message(0, {}, 'AFTER_FLUSH'), ['judy']);
    expect(result.storedFor).toEqual(['judy']);
  });
});
