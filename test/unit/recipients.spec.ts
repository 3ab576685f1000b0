import { MesaValidationError } from '../../lib/index.js';
import { normalizeRecipients, prepareDispatch } from '../../lib/validation/dispatch-input.validator.js';
import { DispatchEvent, Message } from '../../lib/index.js';

describe('normalizeRecipients: the seed’s rules, minus its surprises', () => {
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
    expect(normalizeRecipients(recipients, excluding)).toEqual(expected);
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
    expect(() => normalizeRecipients(recipients, excluding)).toThrow(MesaValidationError);
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
