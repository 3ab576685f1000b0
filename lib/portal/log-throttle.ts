/**
 * Keeps repeated log lines (one per bad frame, failed handler or dropped event) from flooding the logs:
 * at most `limit` lines per key in each `windowMs`; the next line admitted says how many were held back.
 * Keys must come from a small fixed set (reasons, handler names), never from client data.
 */
export class LogThrottle {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 10_000,
    private readonly maxKeys = 256,
  ) {}

  /**
   * Whether a line for `key` may be logged now; when it may, returns the suffix to append (how many
   * lines were held back since the last one), otherwise `undefined`.
   */
  admit(key: string, now = Date.now()): string | undefined {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (!window && this.windows.size >= this.maxKeys) this.windows.clear();
      const suppressed = window?.suppressed ?? 0;
      window = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, window);
      window.count++;
      return suppressed > 0 ? ` (${suppressed} similar lines suppressed before this one)` : '';
    }
    if (window.count < this.limit) {
      window.count++;
      return '';
    }
    window.suppressed++;
    return undefined;
  }
}
