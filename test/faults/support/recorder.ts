import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import type { Envelope } from '../../support/channel-spy.js';
import { poll } from './processes.js';

/**
 * A subscriber of a Mesa channel, as a Mesa server is one, that survives outages: it reconnects
 * every 10 ms and re-subscribes, recording every envelope it receives and when Redis confirmed each
 * subscription. Connect it with any ioredis options (password, TLS, Sentinels).
 */
export class Recorder {
  readonly envelopes: Envelope[] = [];
  /**
   * When Redis confirmed each subscription (`performance.now()`): the first, then one per reconnection. Pub/sub
   * keeps nothing for a subscriber, so the recorder can only hear what was published after the latest of these.
   */
  readonly subscribedAt: number[] = [];
  /** When each of {@link envelopes} arrived (`performance.now()`). */
  private readonly arrivals: number[] = [];
  private constructor(private readonly subscriber: Redis) {}

  static async listen(options: RedisOptions, channel = 'ws'): Promise<Recorder> {
    // ioredis's autoResubscribe would re-subscribe without telling when: the recorder does it itself, on every 'ready'.
    const subscriber = new Redis({
      retryStrategy: () => 10,
      maxRetriesPerRequest: null,
      disconnectTimeout: 100,
      ...options,
      autoResubscribe: false,
    });
    const recorder = new Recorder(subscriber);
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, raw: string) => {
      recorder.envelopes.push(JSON.parse(raw));
      recorder.arrivals.push(performance.now());
    });
    try {
      await subscriber.subscribe(channel);
      recorder.subscribedAt.push(performance.now());
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(
        () => recorder.subscribedAt.push(performance.now()),
        () => undefined, // the connection dropped again: the next 'ready' subscribes
      );
    });
    return recorder;
  }

  /** Whether Redis confirmed a subscription after `time` (a `performance.now()`), e.g. on the server that replaced a dead one. */
  subscribedSince(time: number): boolean {
    return this.subscribedAt.some((at) => at > time);
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
