import { Message, MesaValidationError, RecordingDispatcher, type ExpectedDispatch } from '../../../lib/index.js';

const KNOWN = 'Known keys: type, to, excluding, data, message, publishedTo, storedFor.';

// Every key of expectDispatched must be able to fail: a right value passes, a wrong one throws a message saying what differs.
describe('RecordingDispatcher.expectDispatched fails on every wrong expectation', () => {
  let mesa: RecordingDispatcher;
  beforeEach(async () => {
    mesa = new RecordingDispatcher({ sync: { enabled: true }, online: ['bob', 'dan'] });
    await mesa.dispatch(new Message(0, { text: 'hi', at: new Date(0) }, 'NEW_MESSAGE'), ['bob', 'cy', 'ada'], ['ada']);
    await mesa.broadcast(new Message(0, { up: true }, 'PRESENCE', { sync: false }), { excluding: ['dan'] });
  });

  it('refuses an unknown key, naming it and the known ones (it used to be ignored, so the check passed)', () => {
    const expectation = { publishedto: ['somebody-else'] } as unknown as ExpectedDispatch;
    expect(() => mesa.expectDispatched('NEW_MESSAGE', expectation)).toThrow(MesaValidationError);
    expect(() => mesa.expectDispatched('NEW_MESSAGE', expectation)).toThrow(
      `expectDispatched('NEW_MESSAGE', expected): unknown key 'publishedto' (did you mean 'publishedTo'?). ${KNOWN}`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { recipients: ['bob'] } as never)).toThrow(`unknown key 'recipients'. ${KNOWN}`);
  });

  it('refuses expectations that are not objects, and id lists that are not lists of ids', () => {
    expect(() => mesa.expectDispatched('NEW_MESSAGE', null as never)).toThrow(
      `expectDispatched('NEW_MESSAGE', expected): expected must be an object such as { to: ['42'] }; got null.`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { to: 'bob' } as never)).toThrow(/expected\.to must be an array of user id strings/);
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { storedFor: undefined })).toThrow(
      /expected\.storedFor must be an array of user id strings/,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { message: 'NEW_MESSAGE' } as never)).toThrow(
      /expected\.message must be the wire message \{ op, d, t\[, o\] \} or a predicate on it; got string "NEW_MESSAGE"/,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { type: 'NEW_MESSAGE' } as never)).toThrow(
      `expectDispatched('NEW_MESSAGE', expected): give the type once, as the first argument or as expected.type.`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { data: 10n })).toThrow(/expected\.data cannot be turned into JSON/);
  });

  it('to: exactly these recipients (after excluding), in any order', () => {
    mesa.expectDispatched('NEW_MESSAGE', { to: ['cy', 'bob'] });
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { to: ['bob', 'cy', 'ada'] })).toThrow(
      `Expected a dispatch of type 'NEW_MESSAGE' to [bob, cy, ada], but recorded 'NEW_MESSAGE' dispatches:\n` +
        `  1. 'NEW_MESSAGE' to [bob, cy] published to [bob] stored for [cy] data {"text":"hi","at":"1970-01-01T00:00:00.000Z"}\n` +
        `     differs in: to`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { to: ['bob'] })).toThrow(/differs in: to/);
  });

  it('excluding: the ids broadcast(message, { excluding }) left out', () => {
    mesa.expectDispatched('PRESENCE', { excluding: ['dan'], to: ['bob'] });
    expect(() => mesa.expectDispatched('PRESENCE', { excluding: ['bob'] })).toThrow(
      `Expected a dispatch of type 'PRESENCE' excluding [bob], but recorded 'PRESENCE' dispatches:\n` +
        `  1. 'PRESENCE' to [bob] excluding [dan] data {"up":true}\n` +
        `     differs in: excluding`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { excluding: ['ada'] })).toThrow(
      /differs in: excluding \(only broadcast\(message, \{ excluding \}\) records it; for dispatch\(message, recipients, excluding\) assert `to`\)/,
    );
  });

  it('data: deep-equal to what clients receive (JSON), or a predicate that must hold', () => {
    mesa.expectDispatched('NEW_MESSAGE', { data: { text: 'hi', at: new Date(0) } });
    mesa.expectDispatched('NEW_MESSAGE', { data: (data: any) => data.text === 'hi' });
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { data: { text: 'bye', at: new Date(0) } })).toThrow(
      /with data \{"text":"bye","at":"1970-01-01T00:00:00.000Z"\}, but recorded[\s\S]*differs in: data$/,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { data: { text: 'hi' } })).toThrow(/differs in: data$/);
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { data: (data: any) => data.text === 'bye' })).toThrow(
      /with data matching the predicate, but[\s\S]*differs in: data \(the predicate returned false\)$/,
    );
    expect(() =>
      mesa.expectDispatched('NEW_MESSAGE', {
        data: () => {
          throw new Error('text should be bye');
        },
      }),
    ).toThrow(/differs in: data \(the predicate threw: text should be bye\)$/);
  });

  it('message: the whole wire message { op, d, t[, o] }, or a predicate on it', () => {
    mesa.expectDispatched('PRESENCE', { message: { op: 0, d: { up: true }, t: 'PRESENCE', o: { sync: false } } });
    mesa.expectDispatched('PRESENCE', { message: (message) => message.o?.sync === false });
    expect(() => mesa.expectDispatched('PRESENCE', { message: { op: 0, d: { up: true }, t: 'PRESENCE' } })).toThrow(
      `Expected a dispatch of type 'PRESENCE' with message {"op":0,"d":{"up":true},"t":"PRESENCE"}, but recorded 'PRESENCE' dispatches:\n` +
        `  1. 'PRESENCE' to [bob] excluding [dan] data {"up":true}\n` +
        `     differs in: message (recorded {"op":0,"d":{"up":true},"t":"PRESENCE","o":{"sync":false}})`,
    );
    expect(() => mesa.expectDispatched('PRESENCE', { message: (message) => message.op === 5 })).toThrow(
      /differs in: message \(the predicate returned false\)/,
    );
  });

  it('type: the one-argument form matches any type unless expected.type names one', () => {
    expect(mesa.expectDispatched({ to: ['bob'] }).type).toBe('PRESENCE');
    expect(mesa.expectDispatched({ type: 'NEW_MESSAGE', to: ['bob', 'cy'] }).type).toBe('NEW_MESSAGE');
    expect(() => mesa.expectDispatched({ type: 'TYPING', to: ['bob'] })).toThrow(
      `Expected a dispatch of type 'TYPING' to [bob], but no 'TYPING' was dispatched; recorded types: NEW_MESSAGE, PRESENCE.`,
    );
    expect(() => mesa.expectDispatched({ to: ['cy'] })).toThrow(
      `Expected a dispatch to [cy], but recorded dispatches:\n` +
        `  1. 'NEW_MESSAGE' to [bob, cy] published to [bob] stored for [cy] data {"text":"hi","at":"1970-01-01T00:00:00.000Z"}\n` +
        `     differs in: to\n` +
        `  2. 'PRESENCE' to [bob] excluding [dan] data {"up":true}\n` +
        `     differs in: to`,
    );
  });

  it('publishedTo and storedFor: who was online and who got it stored, as the simulated presence says', () => {
    mesa.expectDispatched('NEW_MESSAGE', { publishedTo: ['bob'], storedFor: ['cy'] });
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { publishedTo: ['somebody-else'] })).toThrow(
      `Expected a dispatch of type 'NEW_MESSAGE' published to [somebody-else], but recorded 'NEW_MESSAGE' dispatches:\n` +
        `  1. 'NEW_MESSAGE' to [bob, cy] published to [bob] stored for [cy] data {"text":"hi","at":"1970-01-01T00:00:00.000Z"}\n` +
        `     differs in: publishedTo\n` +
        `Simulated online ids: [bob, dan] (the online option, setOnline()).`,
    );
    expect(() => mesa.expectDispatched('NEW_MESSAGE', { storedFor: ['bob', 'cy'] })).toThrow(/differs in: storedFor\nSimulated online ids/);
  });

  it('storedFor without sync says that the double stores nothing unless sync is enabled', async () => {
    const plain = new RecordingDispatcher();
    await plain.dispatch(new Message(0, {}, 'N'), ['cy']);
    plain.expectDispatched('N', { publishedTo: ['cy'], storedFor: [] });
    expect(() => plain.expectDispatched('N', { storedFor: ['cy'] })).toThrow(
      /differs in: storedFor\nSync is not simulated, so nothing is stored: use \{ sync: \{ enabled: true \} \} \(RecordingDispatcher or MesaTestingModule\.forRoot\)\.$/,
    );
  });

  it('its presence and backlog doubles agree with publishedTo and storedFor', async () => {
    const { MesaBacklogDouble, MesaPresenceDouble } = await import('../../../lib/index.js');
    const [presence, backlog] = [new MesaPresenceDouble(mesa), new MesaBacklogDouble(mesa)];
    const record = mesa.expectDispatched('NEW_MESSAGE', { publishedTo: ['bob'], storedFor: ['cy'] });
    expect([...(await presence.online(record.recipients))]).toEqual(record.publishedTo);
    expect(await backlog.count('cy')).toBe(1);
    await backlog.clear('cy');
    // the record keeps what the dispatch did; the backlog is what waits now
    mesa.expectDispatched('NEW_MESSAGE', { storedFor: ['cy'] });
    expect(mesa.storedFor('cy')).toEqual([]);
  });

  it('takes online ids only as MesaPresence could report them, so the presence double and the records agree', () => {
    expect(() => new RecordingDispatcher({ online: ['*'] })).toThrow(
      `online[0] cannot be '*': Mesa uses it for "every socket", never as a user id.`,
    );
    expect(() => mesa.setOnline(['bob', ' '])).toThrow(/setOnline\(ids\)\[1\] must be a non-empty string user id/);
    expect(() => mesa.setOnline('bob' as never)).toThrow(MesaValidationError);
    expect(mesa.onlineIds()).toEqual(['bob', 'dan']);
  });
});
