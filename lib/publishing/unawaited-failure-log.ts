import { Logger } from '@nestjs/common';

/** How often a repeated failure is summed up ("N more"), in milliseconds. */
export const FAILURE_LOG_INTERVAL_MS = 1_000;

/**
 * Logs the failures of dispatches nobody awaited without flooding the log: the first failure with a given
 * message is logged at once; the same message again within the interval is only counted, and the count is
 * logged once per interval ("… (N more like this in the last 1 s)"). 100,000 dispatches failing in an outage
 * write a handful of lines, not 100,000.
 */
export class UnawaitedFailureLog {
  private readonly logger = new Logger('MesaDispatcher');
  private readonly repeats = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly intervalMs = FAILURE_LOG_INTERVAL_MS) {}

  /** Logs (or counts) the failure of a dispatch nobody awaited. */
  readonly report = (error: unknown): void => {
    const message = `A dispatch nobody awaited failed: ${(error as Error)?.message ?? String(error)}`;
    const seen = this.repeats.get(message);
    if (seen !== undefined) {
      this.repeats.set(message, seen + 1);
      return;
    }
    this.repeats.set(message, 0);
    this.logger.error(message);
    this.timer ??= setInterval(() => this.flush(), this.intervalMs).unref();
  };

  /** Logs the counts still pending and stops the timer. */
  close(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    for (const [message, count] of this.repeats) {
      if (count > 0) this.logger.error(`${message} (${count} more like this in the last ${this.intervalMs / 1000} s)`);
    }
    if (this.repeats.size === 0 || [...this.repeats.values()].every((count) => count === 0)) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.repeats.clear();
  }
}
