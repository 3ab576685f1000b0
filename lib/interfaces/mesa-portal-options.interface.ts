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
   * Most bytes of client frames held at once (waiting, being handled, or held by a handler past its
   * `handlerTimeout`), counted as Redis delivered them. Beyond it, frames are dropped unparsed and the drop is
   * logged. A frame waits as its text (at most twice its size in memory); a frame being handled is also parsed,
   * which can take several times its size. Default 16 MiB; at least `maxFrameBytes`.
   */
  maxQueuedBytes?: number;
  /**
   * The largest part of `maxQueued` and of `maxQueuedBytes` that the events of one client (one `clientId`; every
   * unauthenticated socket together counts as one client) may take; the clients waiting are served in turn.
   * A number above 0, at most 1 (no per-client bound). Default 0.1.
   */
  maxClientShare?: number;
  /**
   * How long, in ms, a handler may run before the portal stops waiting for it: its slot goes to the next
   * event and the hang is logged. When as many handlers as `concurrency` have hung and not settled since,
   * the instance leaves the pool (Mesa servers stop sending it events) and starts nothing more until one of
   * them settles; then it rejoins. Default 10000.
   */
  handlerTimeout?: number;
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
