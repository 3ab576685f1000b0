import { Message, MesaValidationError } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { useMesaStack } from '../support/mesa-stack.js';
import { MesaUser } from '../support/mesa-user.js';
import { withoutCount } from '../support/stored-backlog.js';

/** A real Message whose `opcode` is a getter: `0` on the first read, a JSON fragment on every later one. */
function twoFacedMessage(fragment: string, counter: { reads: number }): Message {
  const message = new Message(0, { text: 'two-faced' }, 'TRAP');
  Object.defineProperty(message, 'opcode', { get: () => (counter.reads++ === 0 ? 0 : fragment) });
  return message;
}

/** A Proxy over a real Message answering `0` to the first read of `opcode`, a fragment to the next ones. */
function proxiedMessage(fragment: string, counter: { reads: number }): Message {
  return new Proxy(new Message(0, { text: 'proxied' }, 'TRAP'), {
    get: (target, key, receiver) => (key === 'opcode' ? (counter.reads++ === 0 ? 0 : fragment) : Reflect.get(target, key, receiver)),
  });
}

/** A getter that lies on the first read instead: the fragment is what the check sees. */
function fragmentFirst(fragment: string): Message {
  const message = new Message(0, { text: 'fragment first' }, 'TRAP');
  let reads = 0;
  Object.defineProperty(message, 'opcode', { get: () => (reads++ === 0 ? fragment : 0) });
  return message;
}

describe('a message is read once and serialized from what was checked (real Redis, real Mesa with sync)', () => {
  const stack = useMesaStack({ replicas: 1, sync: true });
  const storedFor = async (id: string) => (await stack.db.hget('undelivered_messages', id)) ?? '[]';

  it('getters and Proxies read once: the offline backlog stays valid JSON, the user logs in and gets exactly the valid messages', async () => {
    const getterReads = { reads: 0 };
    const proxyReads = { reads: 0 };

    await stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'BEFORE'), ['eve']);
    const trapped = await Promise.allSettled([
      stack.dispatcher.dispatch(twoFacedMessage('0,"x":1}', getterReads), ['eve']),
      stack.dispatcher.dispatch(proxiedMessage('1]', proxyReads), ['eve']),
      stack.dispatcher.dispatch(fragmentFirst('0,"x":1}'), ['eve']),
    ]);
    await stack.dispatcher.dispatch(new Message(0, { n: 2 }, 'AFTER'), ['eve']);

    const stored = await storedFor('eve');

    const eve = await MesaUser.connect(stack.mesa.url(0), 'eve');
    await eve.waitFor((u) => u.received.filter((m) => m.op === 0).length === 4, 5_000, 'the four stored messages');
    expect(eve.received.filter((m) => m.op === 0)).toEqual([
      { op: 0, d: { n: 1 }, t: 'BEFORE', s: 1 },
      { op: 0, d: { text: 'two-faced' }, t: 'TRAP', s: 2 },
      { op: 0, d: { text: 'proxied' }, t: 'TRAP', s: 3 },
      { op: 0, d: { n: 2 }, t: 'AFTER', s: 4 },
    ]);
    await eventually(async () => (await stack.db.hexists('undelivered_messages', 'eve')) === 0, 5_000, 'the backlog handed over');

    // the server is still up: eve stays connected, gets live messages, and another user can log in
    const frank = await MesaUser.connect(stack.mesa.url(0), 'frank');
    await eventually(async () => (await stack.db.sismember('connected_clients', 'frank')) === 1, 5_000, 'frank online');
    await stack.dispatcher.dispatch(new Message(0, { live: true }, 'LIVE'), ['eve', 'frank']);
    await eve.waitFor((u) => u.of('LIVE').length === 1);
    await frank.waitFor((u) => u.of('LIVE').length === 1);
    expect(eve.open).toBe(true);
    expect(getterReads.reads).toBe(1);
    expect(proxyReads.reads).toBe(1);
    expect(trapped.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((trapped[2] as PromiseRejectedResult).reason).toBeInstanceOf(MesaValidationError);
    expect((trapped[2] as PromiseRejectedResult).reason.message).toMatch(
      /opcode must be a non-negative integer \(0 for a dispatch\); got string/,
    );
    expect(() => JSON.parse(stored)).not.toThrow();
    const backlog = withoutCount(JSON.parse(stored));
    expect(backlog).toEqual([
      { op: 0, d: { n: 1 }, t: 'BEFORE' },
      { op: 0, d: { text: 'two-faced' }, t: 'TRAP' },
      { op: 0, d: { text: 'proxied' }, t: 'TRAP' },
      { op: 0, d: { n: 2 }, t: 'AFTER' },
    ]);

    eve.close();
    frank.close();
  });

  it('online recipients get the same snapshot: every envelope on the channel is valid JSON of the checked message', async () => {
    const reads = { reads: 0 };
    const online = await MesaUser.connect(stack.mesa.url(0), 'gil');
    await eventually(async () => (await stack.db.sismember('connected_clients', 'gil')) === 1, 5_000, 'gil online');
    await stack.spy.clear();

    await stack.dispatcher.dispatch(proxiedMessage('0,"x":1}', reads), ['gil']);

    await online.waitFor((u) => u.of('TRAP').length === 1);
    expect(reads.reads).toBe(1);
    expect(await stack.spy.received()).toEqual([{ message: { op: 0, d: { text: 'proxied' }, t: 'TRAP' }, recipients: ['gil'] }]);
    expect(online.of('TRAP')).toEqual([{ op: 0, d: { text: 'proxied' }, t: 'TRAP', s: undefined }]);
    online.close();
  });
});
