import { Redis } from 'ioredis';

/** An envelope as Mesa servers read it from the channel. */
export interface Envelope {
  message: { op: number; d?: any; t?: string; o?: { sync: boolean } };
  recipients: string[];
}

/**
 * Subscribes to a Mesa channel like a Mesa server does and records every envelope, so a test can
 * assert exactly what was published (and that nothing else was).
 */
export class ChannelSpy {
  readonly envelopes: Envelope[] = [];
  private constructor(private readonly subscriber: Redis) {}

  static async listen(redisUrl: string, channel = 'ws'): Promise<ChannelSpy> {
    const subscriber = new Redis(redisUrl);
    const spy = new ChannelSpy(subscriber);
    subscriber.on('message', (_channel: string, raw: string) => spy.envelopes.push(JSON.parse(raw)));
    await subscriber.subscribe(channel);
    return spy;
  }

  /** Waits until `count` envelopes arrived (or fails after `timeoutMs`). */
  async waitForCount(count: number, timeoutMs = 5_000): Promise<Envelope[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.envelopes.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} envelopes, saw ${this.envelopes.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.envelopes;
  }

  types(): Array<string | undefined> {
    return this.envelopes.map((envelope) => envelope.message.t);
  }

  clear(): void {
    this.envelopes.length = 0;
  }

  async close(): Promise<void> {
    await this.subscriber.quit();
  }
}
