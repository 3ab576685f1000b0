import fc from 'fast-check';
import { MesaValidationError } from '../../lib/index.js';
import { checkRecipients, excludeSelected } from '../../lib/validation/dispatch-input.validator.js';
import { idListJson } from '../../lib/validation/id-list-json.js';
import { checkUserIds } from '../../lib/validation/user-ids.validator.js';

describe('idListJson: JSON.stringify of an id list, character for character', () => {
  it.each<[string[]]>([
    [[]],
    [['a']],
    [['user-1', 'user-2']],
    [['"quoted"', 'back\\slash']],
    [['tab\there', 'nul\u0000', 'line\u2028sep']],
    [['😀', 'x\uD800', '\uDC00']],
    [['x'.repeat(65), 'y']],
    [Array.from({ length: 9 }, (_, i) => `u${i}`)],
  ])('%j', (ids) => {
    expect(idListJson(ids)).toBe(JSON.stringify(ids));
  });

  it('for any list of strings', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('"', '\\', '\n', '\uD800'),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 12 }), (ids) => idListJson(ids) === JSON.stringify(ids)),
      { numRuns: 2_000 },
    );
  });
});

describe('checkUserIds names the refused element by its index, and only then', () => {
  it.each<[unknown[], RegExp]>([
    [['a', ''], /recipients\[1\] must be a non-empty string user id; got string "", which is empty/],
    [['a', 'b', ' \t'], /recipients\[2\] must be a non-empty string user id; .*holds only whitespace/],
    [[7], /recipients\[0\] must be a non-empty string user id; got number\. Convert ids with String\(id\)/],
    [['ok', 'x\uDC00'], /recipients\[1\] is not well-formed Unicode/],
  ])('%j', (ids, message) => {
    expect(() => checkUserIds(ids, 'recipients')).toThrow(MesaValidationError);
    expect(() => checkUserIds(ids, 'recipients')).toThrow(message);
  });

  it('accepts ids that start with a space but are not blank, and returns a copy', () => {
    const ids = [' a', 'b '];
    const checked = checkUserIds(ids, 'recipients');
    expect(checked).toEqual([' a', 'b ']);
    expect(checked).not.toBe(ids);
  });
});

describe('the recipient rules keep order and drop duplicates and excluded ids', () => {
  it('returns the checked copy itself when nothing is dropped, a new list otherwise', () => {
    const wanted = ['a', 'b', 'c'];
    expect(excludeSelected(wanted, []).ids).toBe(wanted);
    expect(excludeSelected(['a', 'b', 'a', 'c', 'b'], ['c']).ids).toEqual(['a', 'b']);
    expect(excludeSelected(['a', 'b', 'c'], ['a']).ids).toEqual(['b', 'c']);
    expect(excludeSelected(['a', 'b', 'c'], ['a']).json).toBe('["b","c"]');
  });

  it('agrees with a Set-based reading for any small list', () => {
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
      fc.property(fc.array(id, { maxLength: 10 }), fc.array(id, { maxLength: 3 }), (wanted, excluded) => {
        const expected = [...new Set(wanted)].filter((x) => !excluded.includes(x));
        const { ids, json } = checkRecipients([...wanted], [...excluded]);
        return JSON.stringify(ids) === JSON.stringify(expected) && json === JSON.stringify(expected);
      }),
      { numRuns: 1_000 },
    );
  });
});
