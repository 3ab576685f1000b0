import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** An envelope as Mesa servers read it from the channel. */
export interface Envelope {
  message: { op: number; d?: any; t?: string; o?: { sync: boolean } };
  recipients: string[];
}

/**
 * Subscribes to a Mesa channel like a Mesa server does and records every envelope, so a test can
 * assert exactly what was published (and that nothing else was).
 *
 * The spy is a subscriber of its own: a user's socket can receive a message before the spy does, and an
 * envelope of the previous test can still be on its way. So a test reads what was published through
 * {@link received} (or {@link waitFor} for a publish it did not await) and starts afresh with {@link clear}.
 */
export class ChannelSpy {
  /** What arrived so far, read as it is: prefer {@link received}. */
  readonly envelopes: Envelope[] = [];
  private readonly fences = new Map<string, () => void>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly publisher: Redis,
    private readonly fenceChannel: string,
  ) {}

  static async listen(redisUrl: string, channel = 'ws'): Promise<ChannelSpy> {
    const subscriber = new Redis(redisUrl);
    const spy = new ChannelSpy(subscriber, new Redis(redisUrl), `channel-spy-fence:${randomUUID()}`);
    subscriber.on('message', (from: string, raw: string) => {
      if (from === spy.fenceChannel) spy.fences.get(raw)?.();
      else spy.envelopes.push(JSON.parse(raw));
    });
    await subscriber.subscribe(channel, spy.fenceChannel);
    return spy;
  }

  /**
   * Every envelope published before this call: a fence published now reaches this subscriber after all of them
   * (Redis delivers a connection's messages in publishing order), so once it is back, they are all in.
   */
  async received(timeoutMs = 5_000): Promise<Envelope[]> {
    const fence = randomUUID();
    const back = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the spy's fence did not come back within ${timeoutMs} ms`)), timeoutMs);
      this.fences.set(fence, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await this.publisher.publish(this.fenceChannel, fence);
      await back;
    } finally {
      this.fences.delete(fence);
    }
    return this.envelopes;
  }

  /** The message types (`t`) of every envelope published before this call, in order. */
  async types(): Promise<Array<string | undefined>> {
    return (await this.received()).map((envelope) => envelope.message.t);
  }

  /** Waits until `count` envelopes arrived (or fails after `timeoutMs`). */
  waitForCount(count: number, timeoutMs = 5_000): Promise<Envelope[]> {
    return this.waitFor((envelopes) => envelopes.length >= count, timeoutMs, `${count} envelopes`);
  }

  /** Waits until `done(envelopes)` holds (or fails after `timeoutMs`): for publishes the test cannot await. */
  async waitFor(done: (envelopes: Envelope[]) => boolean, timeoutMs = 5_000, what = 'the expected envelopes'): Promise<Envelope[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.envelopes)) {
      if (Date.now() > deadline) throw new Error(`waited for ${what}, saw ${this.envelopes.length} envelopes`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.envelopes;
  }

  /** Forgets every envelope published before this call, including those still on their way. */
  async clear(): Promise<void> {
    await this.received();
    this.envelopes.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber.quit(), this.publisher.quit()]);
  }
}
