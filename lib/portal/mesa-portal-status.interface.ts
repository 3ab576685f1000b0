/** What `MesaPortalService.status()` tells about the portal now. */
export interface MesaPortalStatus {
  /** This instance's portal id. */
  id: string;
  /** In the pool: Mesa servers send it events. */
  joined: boolean;
  /** As many handler runs as `concurrency` outlived `handlerTimeout` and have not settled: out of the pool, nothing starts. */
  stalled: boolean;
  /** Client events being handled, and waiting. */
  handling: number;
  waiting: number;
  /** Bytes of the client frames held (waiting, being handled, or held by a handler past its timeout). */
  heldBytes: number;
  /** Handler runs that outlived `handlerTimeout` and have not settled. */
  hungHandlers: number;
  /** Client events dropped since the start (the queue's bounds, shutdown), each logged or counted in a log line. */
  dropped: number;
  /** Times the subscriber connection was lost (the events published meanwhile are lost, and not counted). */
  subscriberLosses: number;
}
