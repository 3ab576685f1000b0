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
  /**
   * `true` when the message's idempotency key was already used in this registration within `idempotency.window`:
   * this dispatch published and stored nothing (`publishedTo` and `storedFor` empty, `receivers` 0; `recipients` the
   * ids it asked for). Exception: when the earlier dispatch was cut short while its stores ran in several script
   * calls, this one makes the stores it left undone (to users still offline, or publishes to those now online), and
   * `publishedTo`/`storedFor` list those. Absent otherwise.
   */
  duplicate?: boolean;
}
