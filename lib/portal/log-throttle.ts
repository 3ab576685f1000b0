/** Where a {@link LogThrottle} writes (a Nest `Logger`). */
export interface ThrottledLogger {
  warn(line: string): void;
  error(line: string): void;
}

/**
 * Keeps repeated log lines (one per bad frame, failed handler, dropped event) from flooding the logs: at most
 * `limit` lines per key in each window of `windowMs`; the lines held back are counted, and at the end of the
 * window one line sums them up (the last of them, with the count). Keys must come from a small fixed set
 * (reasons, handler names), never from client data.
 */
export class LogThrottle {
  private readonly keys = new Map<string, { written: number; held: number; level: 'warn' | 'error'; last: string }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly logger: ThrottledLogger,
    private readonly limit = 5,
    private readonly windowMs = 10_000,
    private readonly maxKeys = 256,
  ) {}

  /** Writes `line` as a warning, unless `key` already had `limit` lines in this window. */
  warn(key: string, line: string): void {
    this.write('warn', key, line);
  }

  /** Writes `line` as an error, unless `key` already had `limit` lines in this window. */
  error(key: string, line: string): void {
    this.write('error', key, line);
  }

  /** Ends the window now: writes the sums of what was held back, and stops the timer. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = this.windowMs / 1000;
    for (const { held, level, last } of this.keys.values()) {
      if (held > 0)
        this.logger[level](`${last} (${held} such line${held === 1 ? '' : 's'} held back in the last ${seconds} s; this is the last)`);
    }
    this.keys.clear();
  }

  private write(level: 'warn' | 'error', key: string, line: string): void {
    let entry = this.keys.get(key);
    if (!entry) {
      if (this.keys.size >= this.maxKeys) this.flush();
      this.keys.set(key, (entry = { written: 0, held: 0, level, last: '' }));
    }
    this.timer ??= setTimeout(() => this.flush(), this.windowMs).unref();
    if (entry.written < this.limit) {
      entry.written++;
      this.logger[level](line);
      return;
    }
    entry.held++;
    entry.level = level;
    entry.last = line;
  }
}
