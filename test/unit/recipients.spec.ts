import { MesaValidationError } from '../../lib/index.js';
import { checkRecipients, prepareDispatch } from '../../lib/validation/dispatch-input.validator.js';
import { DispatchEvent, Message } from '../../lib/index.js';

describe('checkRecipients: the seed’s rules, minus its surprises', () => {
  it.each<[unknown, unknown, string[]]>([
    [undefined, undefined, ['*']],
    [['*'], undefined, ['*']],
    [['*', '*'], undefined, ['*']],
    [['a', 'b'], undefined, ['a', 'b']],
    [['a', 'b', 'a'], undefined, ['a', 'b']],
    [
      ['a', 'b', 'c'],
      ['b', 'x'],
      ['a', 'c'],
    ],
    [['a'], ['a'], []],
    [[], undefined, []],
    [Array.from({ length: 40 }, (_, i) => `u${i % 20}`), ['u3'], Array.from({ length: 20 }, (_, i) => `u${i}`).filter((id) => id !== 'u3')],
  ])('recipients %j excluding %j → %j', (recipients, excluding, expected) => {
    const { ids, json } = checkRecipients(recipients, excluding);
    expect(ids).toEqual(expected);
    expect(json).toBe(JSON.stringify(expected));
  });

  it.each<[unknown, unknown]>([
    ['a', undefined],
    [['a', '*'], undefined],
    [['*'], ['a']],
    [undefined, ['a']],
    [['a'], ['*']],
    [[''], undefined],
    [[' \t'], undefined],
    [[1], undefined],
    [['a'], 'a'],
  ])('refuses recipients %j excluding %j', (recipients, excluding) => {
    expect(() => checkRecipients(recipients, excluding)).toThrow(MesaValidationError);
  });
});

describe('checkRecipients: a list sent again is remembered, never trusted blindly', () => {
  it('answers the same checked list for the same unchanged array, without reading it as anything else', () => {
    const room = ['a', 'b', 'a'];
    const first = checkRecipients(room);
    expect(checkRecipients(room)).toBe(first);
    expect(first.ids).toEqual(['a', 'b']);
  });

  it('checks an array again once it changed in place: a new id, an invalid one, a shorter list', () => {
    const room = ['a', 'b'];
    checkRecipients(room);
    room[1] = 'c';
    expect(checkRecipients(room).ids).toEqual(['a', 'c']);
    room.push('');
    expect(() => checkRecipients(room)).toThrow(MesaValidationError);
    room.length = 1;
    expect(checkRecipients(room).ids).toEqual(['a']);
    room[0] = 'x\uD800';
    expect(() => checkRecipients(room)).toThrow(/well-formed/);
  });

  it('reads a two-faced array (a Proxy) once per element and answers from what it checked', () => {
    let reads = 0;
    const backing = ['a', 'b'];
    const twoFaced = new Proxy(backing, {
      get: (target, key, receiver) => (key === '1' && ++reads > 1 ? 'mallory' : Reflect.get(target, key, receiver)),
    });
    expect(checkRecipients(twoFaced).ids).toEqual(['a', 'b']);
    // the second reading differs from what was checked: checked again, and this time it says 'mallory'
    expect(checkRecipients(twoFaced).ids).toEqual(['a', 'mallory']);
  });

  it('keeps a list sent again and again while one-off arrays come and go', () => {
    const room = ['a', 'b'];
    const cached = checkRecipients(room);
    for (let k = 0; k < 100; k++) {
      checkRecipients([`one-off-${k}`]);
      expect(checkRecipients(room)).toBe(cached);
    }
  });

  it('does not remember lists with excluding, nor very long ones', () => {
    const room = ['a', 'b'];
    expect(checkRecipients(room, ['b'])).not.toBe(checkRecipients(room, ['b']));
    const crowd = Array.from({ length: 1001 }, (_, i) => `u${i}`);
    expect(checkRecipients(crowd)).not.toBe(checkRecipients(crowd));
  });
});

describe('prepareDispatch: the wire form, once', () => {
  it('serializes a Message the way Mesa does, options included', () => {
    const prepared = prepareDispatch(new Message(0, { a: 1 }, 'T', { sync: false }), ['u'], undefined);
    expect(JSON.parse(prepared.messageJson)).toEqual({ op: 0, d: { a: 1 }, t: 'T', o: { sync: false } });
    expect(prepared.storable).toBe(false);
    expect(new Message(0, { a: 1 }, 'T', { sync: false }).serialize()).toBe(prepared.messageJson);
  });

  it('leaves out an undefined type and marks events as never stored', () => {
    expect(prepareDispatch(new Message(0, 1), ['u'], undefined).messageJson).toBe('{"op":0,"d":1}');
    const event = prepareDispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['u'], undefined);
    expect(event).toMatchObject({ messageJson: '{"op":5,"d":{},"t":"DISCONNECT_CLIENT"}', storable: false });
  });

  it('measures bytes, not characters, against maxPayloadBytes', () => {
    expect(() => prepareDispatch(new Message(0, '€'.repeat(100)), ['u'], undefined, 300)).toThrow(/over maxPayloadBytes \(300\)/);
    expect(() => prepareDispatch(new Message(0, 'e'.repeat(100)), ['u'], undefined, 300)).not.toThrow();
  });
});
