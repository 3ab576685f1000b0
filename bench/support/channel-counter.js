// A subscriber on Mesa's channel that counts the envelopes published on it. Every contender's dispatches
// are paced and timed the same way: a chunk counts as done when the subscriber has seen all of it.
import { Redis } from 'ioredis';
import { sleep } from './stats.js';

export class ChannelCounter {
  constructor(client, channel, timeoutMs) {
    this.client = client;
    this.channel = channel;
    this.timeoutMs = timeoutMs;
    this.count = 0;
    this.waiter = undefined;
  }

  /** `timeoutMs`: how long reach() waits without any new envelope before it gives up. */
  static async start(url, { channel = 'ws', timeoutMs = 10_000 } = {}) {
    const client = new Redis(url);
    client.on('error', () => undefined);
    const counter = new ChannelCounter(client, channel, timeoutMs);
    // messageBuffer: no string decoding, the counter stays cheap next to the contenders it measures.
    client.on('messageBuffer', () => {
      counter.count++;
      if (counter.waiter && counter.count >= counter.waiter.target) counter.waiter.resolve();
    });
    await client.subscribe(channel);
    return counter;
  }

  reset() {
    this.count = 0;
  }

  /** Resolves once `target` envelopes were counted; rejects after `timeoutMs` without progress. */
  reach(target, timeoutMs = this.timeoutMs) {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let last = this.count;
      const timer = setInterval(() => {
        if (this.count > last) return void (last = this.count);
        clearInterval(timer);
        this.waiter = undefined;
        reject(new Error(`subscriber counted ${this.count} of ${target} envelopes on "${this.channel}" (no progress for ${timeoutMs} ms)`));
      }, timeoutMs);
      this.waiter = {
        target,
        resolve: () => {
          clearInterval(timer);
          this.waiter = undefined;
          resolve();
        },
      };
    });
  }

  /** Waits `ms` so that stray or duplicate envelopes would be counted too, then returns the count. */
  async settledCount(ms = 50) {
    await sleep(ms);
    return this.count;
  }

  async close() {
    this.client.disconnect();
  }
}
