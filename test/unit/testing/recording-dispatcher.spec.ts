import { DispatchEvent, Message, MesaDispatchError, RecordingDispatcher } from '../../../lib/index.js';

describe('RecordingDispatcher records what DispatcherService would send', () => {
  let mesa: RecordingDispatcher;
  beforeEach(() => (mesa = new RecordingDispatcher()));

  it('records the wire message, recipients after excluding and de-duplication, and resolves like the real service', async () => {
    const sentAt = new Date('2026-01-02T03:04:05.000Z');
    const result = await mesa.dispatch(new Message(0, { text: 'hi', sentAt, gone: undefined }, 'NEW_MESSAGE'), ['a', 'b', 'a', 'c'], ['c']);

    expect(result).toEqual({ recipients: ['a', 'b'], publishedTo: ['a', 'b'], storedFor: [], receivers: 0 });
    expect(mesa.dispatched()).toEqual([
      {
        type: 'NEW_MESSAGE',
        message: { op: 0, d: { text: 'hi', sentAt: '2026-01-02T03:04:05.000Z' }, t: 'NEW_MESSAGE' },
        recipients: ['a', 'b'],
        broadcast: false,
        publishedTo: ['a', 'b'],
        storedFor: [],
        channel: 'ws',
        result,
      },
    ]);
  });

  it('records broadcasts, DISCONNECT_CLIENT events, message options and the namespaced channel', async () => {
    mesa = new RecordingDispatcher({ namespace: 'chat', receivers: 2 });

    expect(await mesa.broadcast(new Message(0, { n: 1 }, 'ALERT'))).toEqual({
      recipients: ['*'],
      publishedTo: ['*'],
      storedFor: [],
      receivers: 2,
    });
    await mesa.dispatch(new Message(0, { n: 2 }, 'ALERT'));
    await mesa.disconnect(['a', 'b'], ['b']);
    await mesa.dispatch(new Message(0, null, 'QUIET', { sync: false }), ['a']);
    await mesa.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['*']);

    expect(mesa.dispatched('ALERT').map((record) => [record.broadcast, record.recipients, record.channel])).toEqual([
      [true, ['*'], 'ws_chat'],
      [true, ['*'], 'ws_chat'],
    ]);
    expect(mesa.dispatched('DISCONNECT_CLIENT').map((record) => [record.message, record.recipients])).toEqual([
      [{ op: 5, d: {}, t: 'DISCONNECT_CLIENT' }, ['a']],
      [{ op: 5, d: {}, t: 'DISCONNECT_CLIENT' }, ['*']],
    ]);
    expect(mesa.lastDispatch('QUIET')?.message).toEqual({ op: 0, d: null, t: 'QUIET', o: { sync: false } });
    expect(mesa.lastDispatch()?.type).toBe('DISCONNECT_CLIENT');
  });

  it('reports an emptied recipient list as the real service does: nothing published, 0 receivers', async () => {
    mesa.setReceivers(3);
    expect(await mesa.dispatch(new Message(0, {}, 'NOBODY'), ['a'], ['a'])).toEqual({
      recipients: [],
      publishedTo: [],
      storedFor: [],
      receivers: 0,
    });
    expect(await mesa.dispatch(new Message(0, {}, 'SOMEBODY'), ['a'])).toMatchObject({ receivers: 3 });
  });

  it('expectDispatched returns the match, or throws a readable Error listing what was recorded', async () => {
    await mesa.dispatch(new Message(0, { text: 'hi', at: new Date(0) }, 'NEW_MESSAGE'), ['b', 'a']);
    await mesa.dispatch(new Message(0, {}, 'TYPING'), ['a']);

    expect(mesa.expectDispatched('NEW_MESSAGE', { to: ['a', 'b'], data: { text: 'hi', at: new Date(0) } }).recipients).toEqual(['b', 'a']);
    expect(mesa.expectDispatched('NEW_MESSAGE', { data: (d: any) => d.text === 'hi' }).type).toBe('NEW_MESSAGE');
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { to: ['a'] })).toThrow(
      `Expected a dispatch of type 'NEW_MESSAGE' to [a], but recorded 'NEW_MESSAGE' dispatches:\n  1. 'NEW_MESSAGE' to [b, a] data {"text":"hi","at":"1970-01-01T00:00:00.000Z"}`,
    );
    expect(() => mesa.expectDispatched('GONE')).toThrow(
      `Expected a dispatch of type 'GONE', but no 'GONE' was dispatched; recorded types: NEW_MESSAGE, TYPING.`,
    );
    expect(() => mesa.expectNothingDispatched('TYPING')).toThrow(/Expected no 'TYPING' dispatch, but recorded:\n  - 'TYPING' to \[a\]/);
    mesa.clear();
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { data: 1 })).toThrow(
      `Expected a dispatch of type 'NEW_MESSAGE' with data 1, but nothing was dispatched.`,
    );
    mesa.expectNothingDispatched();
  });

  it('failNextDispatch rejects the next dispatch with MesaDispatchError, once', async () => {
    mesa.failNextDispatch('ECONNRESET');
    await expect(mesa.dispatch(new Message(0, {}, 'X'), ['a'])).rejects.toThrow(MesaDispatchError);
    await expect(mesa.dispatch(new Message(0, {}, 'X'), ['a'])).resolves.toMatchObject({ recipients: ['a'] });
    expect(mesa.dispatched('X')).toHaveLength(1);
  });
});

describe('RecordingDispatcher simulates sync like the real service', () => {
  it('publishes to online recipients and stores for offline ones, in order, unless { sync: false }', async () => {
    const mesa = new RecordingDispatcher({ sync: { enabled: true }, online: ['bob'], receivers: 1 });

    const first = await mesa.dispatch(new Message(0, { n: 1 }, 'NEW_MESSAGE'), ['alice', 'bob', 'carol']);
    await mesa.dispatch(new Message(0, { n: 2 }, 'NEW_MESSAGE'), ['carol']);
    await mesa.dispatch(new Message(0, { n: 3 }, 'ROOM_UPDATED', { sync: false }), ['alice', 'carol']);
    await mesa.broadcast(new Message(0, { n: 4 }, 'ALERT'));

    expect(first).toEqual({ recipients: ['alice', 'bob', 'carol'], publishedTo: ['bob'], storedFor: ['alice', 'carol'], receivers: 1 });
    expect(mesa.storedFor('carol')).toEqual([
      { op: 0, d: { n: 1 }, t: 'NEW_MESSAGE' },
      { op: 0, d: { n: 2 }, t: 'NEW_MESSAGE' },
    ]);
    expect(mesa.storedFor('bob')).toEqual([]);
    expect(mesa.lastDispatch('NEW_MESSAGE')?.result).toEqual({
      recipients: ['carol'],
      publishedTo: [],
      storedFor: ['carol'],
      receivers: 0,
    });
    expect(mesa.lastDispatch('ROOM_UPDATED')?.publishedTo).toEqual(['alice', 'carol']);
    expect(mesa.lastDispatch('ALERT')?.storedFor).toEqual([]);
    mesa.expectDispatched('NEW_MESSAGE', { to: ['carol'], storedFor: ['carol'] });
  });

  it('follows setOnline, and clear() forgets stored messages', async () => {
    const mesa = new RecordingDispatcher({ sync: { enabled: true } });
    await mesa.dispatch(new Message(0, 1, 'N'), ['a']);
    mesa.setOnline(['a']);
    await mesa.dispatch(new Message(0, 2, 'N'), ['a']);

    expect(mesa.storedFor('a')).toEqual([{ op: 0, d: 1, t: 'N' }]);
    expect(mesa.dispatched('N').map((record) => record.publishedTo)).toEqual([[], ['a']]);
    mesa.clear();
    expect([mesa.storedFor('a'), mesa.dispatched()]).toEqual([[], []]);
  });
});

describe('RecordingDispatcher: idempotency keys, on its own clock', () => {
  it('records the first dispatch of a key, resolves the others within the window as duplicates, and forgets the key after it', async () => {
    let now = 1_000;
    const mesa = new RecordingDispatcher({ sync: { enabled: true }, idempotency: { window: 500 }, now: () => now });
    const order = (n: number) => new Message(0, { n }, 'ORDER', { idempotencyKey: 'order-1' });

    expect(await mesa.dispatch(order(1), ['bob'])).toEqual({ recipients: ['bob'], publishedTo: [], storedFor: ['bob'], receivers: 0 });
    now += 499;
    expect(await mesa.dispatch(order(2), ['bob'])).toEqual({
      recipients: ['bob'],
      publishedTo: [],
      storedFor: [],
      receivers: 0,
      duplicate: true,
    });
    expect(await mesa.broadcast(order(3), { excluding: [] })).toMatchObject({ duplicate: true });
    now += 1;
    expect((await mesa.dispatch(order(4), ['bob'])).duplicate).toBeUndefined();

    expect(mesa.dispatched('ORDER').map((record) => record.message.d)).toEqual([{ n: 1 }, { n: 4 }]);
    expect(mesa.storedFor('bob').map((message) => message.d)).toEqual([{ n: 1 }, { n: 4 }]);
  });
});
