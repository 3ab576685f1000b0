import { inspect } from 'node:util';
import type { RecordingLogger } from '../../support/recording-logger.js';

/**
 * Where any of `secrets` appears in what an application could print: every line the module logged,
 * and each error's message, stack and full inspection (its cause chain and every property ioredis
 * attached, such as a failed command's arguments). Returns descriptions of the places; [] when none.
 */
export function secretsFound(secrets: string[], seen: { logger?: RecordingLogger; errors?: unknown[] }): string[] {
  const texts: Array<[string, string]> = [];
  if (seen.logger) texts.push(['the logs', seen.logger.text()]);
  (seen.errors ?? []).forEach((error, index) => {
    const e = error as Error;
    texts.push([`error #${index} message`, String(e?.message)]);
    texts.push([`error #${index} stack`, String(e?.stack)]);
    texts.push([`error #${index} inspected`, inspect(error, { depth: 10, showHidden: true })]);
  });
  const found: string[] = [];
  for (const secret of secrets) {
    for (const [where, text] of texts) {
      const at = text.indexOf(secret);
      if (at >= 0) found.push(`${where}: …${text.slice(Math.max(0, at - 120), at + secret.length + 40)}…`);
    }
  }
  return found;
}
