import type { Redis } from 'ioredis';
import { closeRedisClient } from '../redis/redis-connection.js';

/** What {@link PortalSubscription} reports besides the frames. */
export interface PortalSubscriptionEvents {
  /** A frame published on the channel. */
  frame(raw: string): void;
  /** The subscriber connection closed: events published from now until {@link back} are lost. */
  lost(): void;
  /** Subscribed again, `outageMs` after the loss. */
  back(outageMs: number): void;
}

/**
 * The portal's subscription to the events channel, on its own connection. Redis keeps nothing for a
 * subscriber that is away, so a dropped connection (Redis closes a subscriber whose output buffer passes
 * `client-output-buffer-limit pubsub`, e.g. on one frame of 32 MB) is reported at once, the connection comes
 * back at once (see `openPortalConnection`), and it subscribes again as soon as it is ready.
 */
export class PortalSubscription {
  private lostAt?: number;
  private closing = false;
  private losses = 0;

  constructor(
    private readonly client: Redis,
    private readonly channel: string,
    private readonly events: PortalSubscriptionEvents,
  ) {
    client.on('message', (from: string, raw: string) => from === channel && !this.closing && events.frame(raw));
    client.on('close', () => this.noteLoss());
    client.on('ready', () => this.lostAt !== undefined && void this.resubscribe());
  }

  /** Times the connection was lost since the start. */
  get outages(): number {
    return this.losses;
  }

  /** Subscribes (the first time). */
  async subscribe(): Promise<void> {
    await this.client.subscribe(this.channel);
  }

  /** Stops delivering frames and unsubscribes, without waiting for Redis (it may not answer). */
  stop(): void {
    this.closing = true;
    this.client.unsubscribe(this.channel).catch(() => undefined);
  }

  /** Closes the connection (see `closeRedisClient`). */
  async close(redisAnswers = true): Promise<void> {
    this.closing = true;
    await closeRedisClient(this.client, redisAnswers);
  }

  private noteLoss(): void {
    if (this.closing || this.lostAt !== undefined) return;
    this.lostAt = performance.now();
    this.losses++;
    this.events.lost();
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.client.subscribe(this.channel);
    } catch {
      return; // the connection dropped again: the next 'ready' retries
    }
    const outageMs = Math.round(performance.now() - this.lostAt!);
    this.lostAt = undefined;
    if (!this.closing) this.events.back(outageMs);
  }
}
