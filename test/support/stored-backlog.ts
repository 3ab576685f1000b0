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
