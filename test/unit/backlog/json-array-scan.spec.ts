import fc from 'fast-check';
import { redeliveredMessages, storedCount } from '../../../lib/backlog/redelivered-messages.js';
import { scanJsonArray } from '../../../lib/backlog/json-array-scan.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** Strings full of what a comma scan could trip on. */
const nasty = fc.oneof(fc.string(), fc.constantFrom('"', '\\', '\\"', ',', '[', ']', '{', '}', '\\\\"]', 'é,ü', '😀', '\n'));
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('json'), { maxKeys: 4 }),
  ),
})).json;

describe('scanJsonArray: counting a stored backlog by its top-level commas', () => {
  it('counts the elements of any JSON array, compact or indented', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), fc.constantFrom(undefined, 2), (array, indent) => {
        expect(scanJsonArray(bytes(JSON.stringify(array, null, indent)))?.count).toBe(array.length);
      }),
      { numRuns: 500 },
    );
  });

  it('finds where the first `limit` elements end, so only they are parsed', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 25 }), (array, limit) => {
        const stored = bytes(JSON.stringify(array.map((d) => ({ op: 0, d, t: 'T', x: 1 }))));
        const peeked = redeliveredMessages(stored, limit)!;
        expect(peeked).toEqual(array.slice(0, limit).map((d, index) => JSON.parse(JSON.stringify({ op: 0, d, t: 'T', s: index + 1 }))));
      }),
      { numRuns: 300 },
    );
  });

  it.each(['', '{}', '"[1]"', '[1', '[1]x', '[', '["a]', '[{"a":1]', 'null', ' [ ] ]'])('is not fooled by %j', (text) => {
    expect(scanJsonArray(bytes(text))).toBeUndefined();
  });

  it.each([
    ['[]', 0],
    [' [ ] ', 0],
    ['[1]', 1],
    ['[1,[2,3],{"a":[4,5]},"6,7"]', 4],
    ['["\\\\",","]', 2],
  ])('counts %s as %i', (text, count) => {
    expect(storedCount(bytes(text))).toBe(count);
  });

  it('treats a missing field as empty and a syntax error inside an element as unreadable for peek', () => {
    expect(storedCount(null)).toBe(0);
    expect(redeliveredMessages(bytes('[{"op":0,}]'))).toBeUndefined();
  });
});
