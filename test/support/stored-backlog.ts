/**
 * Stored messages as Mesa redelivers them: nestjs-mesa writes the backlog's state as extra fields on the last stored
 * message (`m`, `l`, `n`: earliest and latest expiry, count; Mesa rebuilds `Message(op, d, t)`, so clients never see
 * them). Drops them, after checking that `n`, where present, equals the number of messages.
 */
export function withoutCount(messages: any[]): any[] {
  return messages.map((message, index) => {
    if (!('n' in message)) return message;
    if (index === messages.length - 1 && message.n !== messages.length)
      throw new Error(`stored count n=${String(message.n)}, but ${messages.length} messages`);
    const rest = { ...message };
    delete rest.n;
    delete rest.m;
    delete rest.l;
    return rest;
  });
}

/**
 * A backlog as Mesa writes it (one compact JSON array, no state on the last message) of about `bytes` bytes, of
 * messages of about `messageBytes` each, typed `type` and numbered 0..n-1 in `d.n`.
 */
export function mesaBacklogText(bytes: number, { messageBytes = 1_000, type = 'OLD' } = {}): string {
  const padding = 'x'.repeat(Math.max(0, messageBytes - 40));
  const messages: string[] = [];
  let size = 1;
  for (let n = 0; ; n++) {
    const message = JSON.stringify({ op: 0, d: { n, padding }, t: type });
    if (size + message.length + 1 > bytes) break;
    messages.push(message);
    size += message.length + 1;
  }
  return `[${messages.join(',')}]`;
}

/** Per command, what Redis reports having run since the last `CONFIG RESETSTAT` (`INFO commandstats`). */
export async function commandCalls(db: { info(section: string): Promise<string> }): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const match of (await db.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}
