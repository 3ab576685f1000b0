import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import type { Envelope } from '../../support/channel-spy.js';
import { poll } from './processes.js';

/**
 * A subscriber of a Mesa channel, as a Mesa server is one, that survives outages: it reconnects
 * every 10 ms and re-subscribes (ioredis does), recording every envelope it receives. Connect it
 * with any ioredis options (password, TLS, Sentinels).
 */
export class Recorder {
  readonly envelopes: Envelope[] = [];
  /** When each of {@link envelopes} arrived (`performance.now()`). */
  private readonly arrivals: number[] = [];
  private constructor(private readonly subscriber: Redis) {}

  static async listen(options: RedisOptions, channel = 'ws'): Promise<Recorder> {
    const subscriber = new Redis({ retryStrategy: () => 10, maxRetriesPerRequest: null, disconnectTimeout: 100, ...options });
    const recorder = new Recorder(subscriber);
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, raw: string) => {
      recorder.envelopes.push(JSON.parse(raw));
      recorder.arrivals.push(performance.now());
    });
    try {
      await subscriber.subscribe(channel);
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    return recorder;
  }

  /** The `d.n` of every envelope received (before `time`, a `performance.now()`, if given), in arrival order. */
  numbers(time = Infinity): number[] {
    return this.envelopes
      .filter((_envelope, index) => this.arrivals[index] < time)
      .map((envelope) => envelope.message.d?.n)
      .filter((n): n is number => typeof n === 'number');
  }

  /** Forgets what was received so far. */
  clear(): void {
    this.envelopes.length = 0;
    this.arrivals.length = 0;
  }

  /** Waits until every number of `expected` arrived. */
  async waitForAll(expected: Iterable<number>, timeoutMs = 5_000): Promise<void> {
    const wanted = [...expected];
    const missing = () => {
      const seen = new Set(this.numbers());
      return wanted.filter((n) => !seen.has(n));
    };
    await poll(
      () => missing().length === 0,
      timeoutMs,
      () => `${wanted.length} envelopes (missing: ${JSON.stringify(missing().slice(0, 20))})`,
      10,
    );
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
