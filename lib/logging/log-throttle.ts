/** Where a {@link LogThrottle} writes (a Nest `Logger`). */
export interface ThrottledLogger {
  warn(line: string): void;
  error(line: string): void;
}

/** How much a {@link LogThrottle} lets through. */
export interface LogThrottleOptions {
  /** Lines written per key in each window; the others are counted. Default 5. */
  limit?: number;
  /** The window, in ms. Default 10000. */
  windowMs?: number;
  /** Keys followed at once; one more ends the window early. Default 256. */
  maxKeys?: number;
}

/**
 * The module's one way to keep a repeated log line (a failed dispatch nobody awaited, a bad client frame, a failing
 * handler, a connection error while Redis is down) from flooding the logs: at most `limit` lines per key in each
 * window of `windowMs`; the lines held back are counted, and at the end of the window one line sums them up: the last
 * of them, followed by `(N more like this in the last S s)`. 100,000 dispatches failing in an outage write a handful
 * of lines. Keys come from a small set (reasons, handler names, messages the module writes), never from client data;
 * past `maxKeys` of them the window ends early, so memory stays bounded.
 */
export class LogThrottle {
  private readonly keys = new Map<string, { written: number; held: number; level: 'warn' | 'error'; last: string }>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly logger: ThrottledLogger,
    { limit = 5, windowMs = 10_000, maxKeys = 256 }: LogThrottleOptions = {},
  ) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
  }

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
      if (held > 0) this.logger[level](`${last} (${held} more like this in the last ${seconds} s)`);
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
