/**
 * One stored message as a Mesa server sends it to the user on redelivery: it rebuilds each stored
 * entry as `Message(op, d, t)` (other fields of the entry never reach the client) and numbers them
 * `s` = 1..N, oldest first. `d` and `t` are absent when the entry had none, as in the JSON sent.
 */
export interface RedeliveredMessage {
  /** Opcode; 0 for a dispatch. */
  op: number;
  /** The data, as JSON carried it. */
  d?: unknown;
  /** The message type, e.g. `'NEW_MESSAGE'`. */
  t?: string;
  /** Sequence number of the redelivery, 1-based, oldest first. */
  s: number;
}
