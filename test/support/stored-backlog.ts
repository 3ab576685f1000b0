/**
 * Stored messages as Mesa redelivers them: nestjs-mesa writes the backlog's count as an extra field `n` on the
 * last stored message (Mesa rebuilds `Message(op, d, t)`, so clients never see it). Drops it, after checking
 * that, where present, it equals the number of messages.
 */
export function withoutCount(messages: any[]): any[] {
  return messages.map((message, index) => {
    if (!('n' in message)) return message;
    if (index === messages.length - 1 && message.n !== messages.length)
      throw new Error(`stored count n=${String(message.n)}, but ${messages.length} messages`);
    const rest = { ...message };
    delete rest.n;
    return rest;
  });
}
