// A subscriber on Mesa's channel that counts the envelopes published on it. Every contender's dispatches
// are paced and timed the same way: a chunk counts as done when the subscriber has seen all of it.
// The subscriber runs in its own process (counter-process.js), so it takes no CPU from the contenders.
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './processes.js';
import { sleep } from './stats.js';

const SCRIPT = fileURLToPath(new URL('./counter-process.js', import.meta.url));

export class ChannelCounter {
  constructor(child, channel, timeoutMs) {
    this.child = child;
    this.channel = channel;
    this.timeoutMs = timeoutMs;
    this.count = 0;
    this.generation = 0;
    this.listeners = new Set();
    child.on('message', (message) => {
      // a count sent before the last reset() was read by the counter belongs to the previous round
      if (message.generation !== this.generation) return;
      if (message.type === 'reset') this.cpuAtReset = message.cpuUs;
      if (message.type !== 'count') return;
      this.count = message.count;
      this.cpuUs = message.cpuUs;
      for (const listener of this.listeners) listener();
    });
  }

  /** `timeoutMs`: how long reach() waits without any new envelope before it gives up. */
  static async start(url, { channel = 'ws', timeoutMs = 10_000 } = {}) {
    const child = spawnTracked(process.execPath, [SCRIPT, url, channel], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise((resolve, reject) => {
      child.once('message', (message) => (message.type === 'ready' ? resolve() : reject(new Error('counter failed'))));
      child.once('exit', (code) => reject(new Error(`channel counter exited with ${code}`)));
    });
    return new ChannelCounter(child, channel, timeoutMs);
  }

  reset() {
    this.count = 0;
    this.cpuAtReset = undefined;
    this.cpuUs = undefined;
    this.generation++;
    this.child.send({ type: 'reset', generation: this.generation });
  }

  /** The counting process's CPU (µs) from the last reset() to the last count it answered, or NaN before both. */
  cpuSinceReset() {
    return this.cpuUs !== undefined && this.cpuAtReset !== undefined ? this.cpuUs - this.cpuAtReset : NaN;
  }

  /** Resolves once `target` envelopes were counted; rejects after `timeoutMs` without progress. */
  reach(target, timeoutMs = this.timeoutMs) {
    return new Promise((resolve, reject) => {
      let last = -1;
      const done = (error) => {
        clearInterval(timer);
        this.listeners.delete(check);
        error ? reject(error) : resolve();
      };
      const check = () => this.count >= target && done();
      const timer = setInterval(() => {
        if (this.count > last) {
          last = this.count;
          return void this.child.send({ type: 'count' });
        }
        done(new Error(`subscriber counted ${this.count} of ${target} envelopes on "${this.channel}" (no progress for ${timeoutMs} ms)`));
      }, timeoutMs);
      this.listeners.add(check);
      this.child.send({ type: 'wait', target });
    });
  }

  /** Waits `ms` so that stray or duplicate envelopes would be counted too, then returns the count. */
  async settledCount(ms = 50) {
    await sleep(ms);
    await new Promise((resolve) => {
      const once = () => (this.listeners.delete(once), resolve());
      this.listeners.add(once);
      this.child.send({ type: 'count' });
    });
    return this.count;
  }

  async close() {
    if (!this.child.connected) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    await exited;
  }
}
