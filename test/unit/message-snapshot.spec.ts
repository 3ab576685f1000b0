import fc from 'fast-check';
import { DispatchEvent, Message, MesaValidationError } from '../../lib/index.js';
import { prepareDispatch } from '../../lib/validation/dispatch-input.validator.js';
import { prepareMessage } from '../../lib/messages/message-snapshot.js';
import { sealDispatch } from '../../lib/validation/sealed-dispatch.js';
import { checkSelectedRecipients } from '../../lib/validation/dispatch-input.validator.js';
import { isWellFormedText } from '../../lib/messages/well-formed-text.js';
import { checkSelectedIds, checkUserIds } from '../../lib/validation/user-ids.validator.js';

const KIND = Symbol.for('nestjs-mesa:message-kind');

/** A Proxy over `target` counting the reads of each property. */
function counted<T extends object>(target: T): { proxy: T; reads: Map<PropertyKey, number> } {
  const reads = new Map<PropertyKey, number>();
  const proxy = new Proxy(target, {
    get: (object, key, receiver) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(object, key, receiver);
    },
  });
  return { proxy, reads };
}

/** A getter answering each of `values` in turn (the last one forever). */
function sequence(values: unknown[]): () => unknown {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)];
}

describe('prepareMessage reads each field once and serializes that snapshot', () => {
  it('a Proxy over a real Message: brand, opcode, data, type and options are each read exactly once', () => {
    const { proxy, reads } = counted(new Message(0, { a: 1 }, 'T', { sync: false }));

    expect(prepareMessage(proxy)).toEqual({ messageJson: '{"op":0,"d":{"a":1},"t":"T","o":{"sync":false}}', storable: false });
    for (const key of [KIND, 'opcode', 'data', 'type', 'options']) expect(reads.get(key)).toBe(1);
  });

  it("Mesa's own shape (no brand, a serialize function) is recognised and read once too", () => {
    const mesaLike = { opcode: 0, data: 'x', type: 'T', serialize: () => '' };
    const { proxy, reads } = counted(mesaLike);

    expect(prepareMessage(proxy).messageJson).toBe('{"op":0,"d":"x","t":"T"}');
    for (const key of ['opcode', 'data', 'type', 'options', 'serialize']) expect(reads.get(key)).toBe(1);
  });

  it('an opcode that answers 0 then a JSON fragment is serialized as 0; one that answers the fragment first is refused', () => {
    const honestFirst = new Message(0, 1, 'T');
    Object.defineProperty(honestFirst, 'opcode', { get: sequence([0, '0,"x":1}']) });
    const lyingFirst = new Message(0, 1, 'T');
    Object.defineProperty(lyingFirst, 'opcode', { get: sequence(['1]', 0]) });

    expect(prepareMessage(honestFirst).messageJson).toBe('{"op":0,"d":1,"t":"T"}');
    expect(() => prepareMessage(lyingFirst)).toThrow(MesaValidationError);
  });

  it('a two-faced type or sync option cannot split the check from the output', () => {
    const type = new Message(0, 1, 'T');
    Object.defineProperty(type, 'type', { get: sequence(['T', { toString: () => '"' }]) });
    const options = {};
    Object.defineProperty(options, 'sync', { get: sequence([false, true]), enumerable: true });
    const sync = new Message(0, 1, 'T');
    Object.defineProperty(sync, 'options', { value: options });

    expect(prepareMessage(type).messageJson).toBe('{"op":0,"d":1,"t":"T"}');
    const prepared = prepareMessage(sync);
    expect(prepared.storable).toBe(false);
    expect(JSON.parse(prepared.messageJson).o.sync).toBe(false);
  });

  it('options whose toJSON returns undefined are left out rather than written as invalid JSON', () => {
    const message = new Message(0, 1, 'T');
    Object.defineProperty(message, 'options', { value: { sync: true, toJSON: () => undefined } });

    expect(prepareMessage(message).messageJson).toBe('{"op":0,"d":1,"t":"T"}');
  });

  it('refuses options that are not an object, and type/action strings that are not well-formed Unicode', () => {
    const message = new Message(0, 1, 'T');
    Object.defineProperty(message, 'options', { value: 'sync' });

    expect(() => prepareMessage(message)).toThrow(/options must be an object/);
    expect(() => prepareMessage(new Message(0, 1, '\uD800'))).toThrow(/Message type is not well-formed Unicode/);
    expect(() => prepareMessage(new DispatchEvent('\uDC00X'))).toThrow(/DispatchEvent action is not well-formed Unicode/);
  });

  it('whatever fields answer, read after read, the result is refused or valid JSON with a checked op and t', () => {
    fc.assert(
      fc.property(
        fc.array(fc.anything(), { minLength: 1, maxLength: 3 }),
        fc.array(fc.anything(), { minLength: 1, maxLength: 3 }),
        fc.anything(),
        (opcodes, types, data) => {
          const candidate = { [KIND]: 'message', data };
          Object.defineProperty(candidate, 'opcode', { get: sequence(opcodes) });
          Object.defineProperty(candidate, 'type', { get: sequence(types) });
          let json: string;
          try {
            json = prepareMessage(candidate).messageJson;
          } catch (error) {
            return error instanceof MesaValidationError;
          }
          const parsed = JSON.parse(json);
          return Number.isInteger(parsed.op) && parsed.op >= 0 && (parsed.t === undefined || typeof parsed.t === 'string');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a sealed message (what @Dispatch builds) keeps the JSON it was checked with', () => {
    const data = { text: 'checked' };
    const to = ['u'];
    const message = sealDispatch('T', data, undefined, checkSelectedRecipients(to), to, undefined, 1_000);
    const sealed = prepareDispatch(message, to, undefined);
    data.text = 'changed later';

    expect(sealed.messageJson).toBe('{"op":0,"d":{"text":"checked"},"t":"T"}');
    expect(prepareDispatch(message, to, undefined).messageJson).toBe(sealed.messageJson);
    // handed over with other lists: the recipients are checked, the message stays what was checked
    expect(prepareDispatch(message, ['v'], undefined)).toMatchObject({ messageJson: sealed.messageJson, recipients: ['v'] });
    expect(message.serialize()).toBe(sealed.messageJson);
  });
});

describe('id lists are read once and must be arrays of well-formed ids', () => {
  it('an array whose element is a getter is read once: the check and the result see the same id', () => {
    const ids = ['a', 'b'];
    Object.defineProperty(ids, 1, { get: sequence(['b', '*']), enumerable: true });

    expect(prepareDispatch(new Message(0, 1), ids, undefined).recipients).toEqual(['a', 'b']);
  });

  it('a Proxy over an id array: length and each element read once', () => {
    const { proxy, reads } = counted(['a', 'b', 'c']);

    expect(checkUserIds(proxy, 'recipients')).toEqual(['a', 'b', 'c']);
    expect([reads.get('length'), reads.get('0'), reads.get('1'), reads.get('2')]).toEqual([1, 1, 1, 1]);
  });

  it('selector results: only arrays of ids, no "*", with a message saying what came back', () => {
    for (const value of [undefined, null, 'a', new Set(['a']), { length: 0 }]) {
      expect(() => checkSelectedIds(value, 'recipients')).toThrow(
        /the recipients function returned .*it must return an array of user id strings/,
      );
      expect(() => checkSelectedIds(value, 'excluding')).toThrow(/the excluding function returned .*return \[\] to leave nobody out/);
    }
    expect(() => checkSelectedIds(['*'], 'recipients')).toThrow(/Declare \{ broadcast: true \}/);
    expect(() => checkSelectedIds(['*'], 'excluding')).toThrow(/excluding cannot contain '\*'/);
    expect(checkSelectedIds([], 'recipients')).toEqual([]);
  });

  it('isWellFormedText: lone surrogates refused, pairs accepted (native and fallback agree)', () => {
    const cases = ['plain', 'x\uD800', 'x\uDC00', '\uDC00\uD800', '\u{1F600}', 'a\uD83D\uDE00b', '\uD83D'];
    const fallback = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
    expect(cases.map(isWellFormedText)).toEqual([true, false, false, false, true, true, false]);
    expect(cases.map(fallback)).toEqual(cases.map(isWellFormedText));
  });
});
