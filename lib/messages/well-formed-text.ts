const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `text` is well-formed UTF-16 (no lone surrogate), so that it survives UTF-8, the encoding Redis
 * and every Mesa server speak. A lone surrogate becomes U+FFFD there: `'x\uD800'` and `'x\uDC00'` would
 * both arrive as `'x\uFFFD'`, one user's messages stored for, or sent to, another.
 */
export function isWellFormedText(text: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(text) : !LONE_SURROGATE.test(text);
}
