import { Message } from '../../lib/index.js';
import { useMesaStack } from '../support/mesa-stack.js';
import type { MesaUser } from '../support/mesa-user.js';

const post = (n: number) => new Message(0, { n }, 'POST');

/**
 * A room's member array sent to again and again is checked once and remembered (issue "Performance, round two"):
 * the remembered list must follow the array as it changes, and what a result hands back must be the caller's own.
 */
describe('a recipient array sent again: remembered, never trusted blindly (real Redis, Mesa server and clients)', () => {
  const stack = useMesaStack({ replicas: 1 });
  const posts = (user: MesaUser) => user.of('POST').map((message) => (message.d as { n: number }).n);

  it('follows an array changed in place between dispatches: a member swapped out stops receiving, the new one starts', async () => {
    const [alice, bob, mallory] = [await stack.connect(0, 'alice'), await stack.connect(0, 'bob'), await stack.connect(0, 'mallory')];
    const room = ['alice', 'bob'];
    await stack.dispatcher.dispatch(post(1), room);
    await stack.dispatcher.dispatch(post(2), room);
    room[1] = 'mallory';
    await stack.dispatcher.dispatch(post(3), room);
    room.push('bob');
    room.length = 2;
    await stack.dispatcher.dispatch(post(4), room);
    const flagged = await Promise.all([stack.dispatcher.dispatch(post(5), room), stack.dispatcher.dispatch(post(6), room)]);
    room[0] = '';
    await expect(stack.dispatcher.dispatch(post(7), room)).rejects.toThrow(/recipients\[0\] must be a non-empty string/);

    await alice.waitFor((u) => u.of('POST').length === 6);
    await mallory.waitFor((u) => u.of('POST').length === 4);
    expect(posts(alice)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(posts(bob)).toEqual([1, 2]);
    expect(posts(mallory)).toEqual([3, 4, 5, 6]);
    expect(flagged.map((result) => result.recipients)).toEqual([
      ['alice', 'mallory'],
      ['alice', 'mallory'],
    ]);
    expect((await stack.spy.received()).map((envelope) => envelope.recipients)).toEqual([
      ['alice', 'bob'],
      ['alice', 'bob'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
    ]);
  });

  it('hands every result its own lists: changing one changes neither the next dispatch nor another result', async () => {
    const carol = await stack.connect(0, 'carol');
    const room = ['carol'];
    const [first, second] = await Promise.all([stack.dispatcher.dispatch(post(10), room), stack.dispatcher.dispatch(post(11), room)]);
    first.recipients.push('eve');
    first.publishedTo.push('eve');
    expect(second.recipients).toEqual(['carol']);
    expect(second.publishedTo).toEqual(['carol']);
    const third = await stack.dispatcher.dispatch(post(12), room);
    expect(third.recipients).toEqual(['carol']);
    await carol.waitFor((u) => u.of('POST').length === 3);
    expect((await stack.spy.received()).slice(-3).map((envelope) => envelope.recipients)).toEqual([['carol'], ['carol'], ['carol']]);
  });
});
