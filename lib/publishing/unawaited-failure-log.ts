import { Logger } from '@nestjs/common';
import { LogThrottle } from '../logging/log-throttle.js';

/** How often a repeated failure is summed up ("N more like this"), in milliseconds. */
export const FAILURE_LOG_INTERVAL_MS = 1_000;

/**
 * Logs the failures of dispatches nobody awaited through a {@link LogThrottle}: the first failure with a given
 * message at once, the same message again within the second only counted, then summed up ("… (N more like this in
 * the last 1 s)").
 */
export class UnawaitedFailureLog {
  private readonly throttle: LogThrottle;

  constructor(intervalMs = FAILURE_LOG_INTERVAL_MS) {
    this.throttle = new LogThrottle(new Logger('MesaDispatcher'), { limit: 1, windowMs: intervalMs });
  }

  /** Logs (or counts) the failure of a dispatch nobody awaited. */
  readonly report = (error: unknown): void => {
    const line = `A dispatch nobody awaited failed: ${(error as Error)?.message ?? String(error)}`;
    this.throttle.error(line, line);
  };

  /** Logs the counts still pending and stops the timer. */
  close(): void {
    this.throttle.flush();
  }
}
