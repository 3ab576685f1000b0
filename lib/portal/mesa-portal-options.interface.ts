/**
 * Options of Mesa's Portal (`MesaModule.forRoot({ portal })`): client frames sent over the WebSocket
 * reach `@OnMesaMessage` (and the other `@OnMesa…`) handlers of this application.
 *
 * The Mesa servers must run with `portal: { enabled: true }` and the same Redis and namespace.
 */
export interface MesaPortalOptions {
  /** Turns the portal on. When false (or `portal` is absent) nothing is opened and no handler runs. */
  enabled: boolean;
  /**
   * This instance's id in the pool. Give a stable one (a pod name) so that a restarted instance takes its
   * place again; ids must be unique among live instances. Default: a random UUID per start.
   */
  id?: string;
  /** Handle every client event, not only those Mesa addressed to this portal (as Mesa's `reportAllEvents`). */
  reportAllEvents?: boolean;
  /** Most client events handled at once. Default 32. */
  concurrency?: number;
  /**
   * Most client events waiting for a free slot. Beyond it, events are dropped and the drop is logged
   * (pub/sub cannot slow the servers down). Default 10000.
   */
  maxQueued?: number;
  /**
   * Lifetime, in ms, of this portal's heartbeat in Redis; it is refreshed every third of it, and live
   * portals reap pool ids whose heartbeat lapsed. After a crash, events addressed to the dead portal are
   * lost for at most about this long (plus a third). Default 3000; at least 300.
   */
  heartbeatTtl?: number;
  /**
   * At shutdown, how long, in ms, the portal keeps handling events addressed to it after announcing its
   * departure (events the servers sent before they heard it). Default 500.
   */
  leaveGrace?: number;
  /** At shutdown, how long, in ms, to wait for the handlers in flight and queued. Default 10000. */
  drainTimeout?: number;
  /** Largest event frame read from Redis, in bytes; larger ones are logged and dropped. Default 1 MiB. */
  maxFrameBytes?: number;
}
