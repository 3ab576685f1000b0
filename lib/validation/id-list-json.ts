/** Lists longer than this go to `JSON.stringify` directly: concatenation only pays for a few short ids. */
const MAX_FAST_IDS = 8;
/** Ids longer than this go to `JSON.stringify` too (scanning them costs more than it saves). */
const MAX_FAST_ID_LENGTH = 64;

/**
 * `JSON.stringify(ids)` for a list of strings, exactly (the same text, character for character), built by
 * concatenation when every id is a short string that JSON writes as it is (no quote, backslash, control
 * character or surrogate): that is most id lists, and it skips the serializer's set-up, which costs more than
 * the work for two or three ids.
 */
export function idListJson(ids: readonly string[]): string {
  const length = ids.length;
  if (length === 0) return '[]';
  if (length > MAX_FAST_IDS) return JSON.stringify(ids);
  let json = '["';
  for (let index = 0; index < length; index++) {
    const id = ids[index];
    if (!writesAsIs(id)) return JSON.stringify(ids);
    json += index === 0 ? id : `","${id}`;
  }
  return `${json}"]`;
}

/** Whether JSON writes `text` between quotes unchanged: short, no `"`, `\`, control character or surrogate. */
function writesAsIs(text: string): boolean {
  const length = text.length;
  if (length > MAX_FAST_ID_LENGTH) return false;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}
