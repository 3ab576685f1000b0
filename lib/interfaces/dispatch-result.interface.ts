/**
 * What one `dispatch()` did, once Redis has taken it.
 */
export interface DispatchResult {
  /** The recipients asked for, after `excluding` and de-duplication (`['*']` for a broadcast). */
  recipients: string[];
  /** The ids named in the envelope published on the Mesa channel (`['*']` for a broadcast). */
  publishedTo: string[];
  /** Offline recipients for whom the message was stored for redelivery (sync mode only). */
  storedFor: string[];
  /** How many Mesa servers (subscribers of the channel) received the publish; 0 when nothing was published. */
  receivers: number;
  /**
   * With the backlog caps (`maxStoredPerUser`, `maxStoredBytesPerUser`): for each offline recipient whose backlog was full, how many of their oldest
   * stored messages this dispatch pushed out. Absent when nothing was dropped.
   */
  dropped?: Record<string, number>;
  /**
   * With expiry (`sync.ttl`, a message's `ttl`): for each offline recipient whose stored messages had expired, how
   * many this dispatch removed as it stored for them. Absent when none.
   */
  expired?: Record<string, number>;
}
