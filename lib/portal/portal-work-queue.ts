/**
 * Runs client-event tasks with at most `concurrency` at once and at most `maxQueued` waiting; `push`
 * refuses a task beyond that, so a flood of client frames holds bounded memory. Tasks must not reject.
 */
export class PortalWorkQueue {
  private running = 0;
  private waiting: Array<() => Promise<void>> = [];
  private head = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  /** Tasks running or waiting. */
  get size(): number {
    return this.running + this.waiting.length - this.head;
  }

  /** Starts or queues `task`; false when the queue is full (the task was not taken). */
  push(task: () => Promise<void>): boolean {
    if (this.running < this.concurrency) {
      this.start(task);
      return true;
    }
    if (this.waiting.length - this.head >= this.maxQueued) return false;
    this.waiting.push(task);
    return true;
  }

  /** Resolves true once nothing runs or waits, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => (clearTimeout(timer), resolve(true)));
    });
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    const done = () => this.finish();
    task().then(done, done);
  }

  private finish(): void {
    this.running--;
    if (this.head < this.waiting.length) {
      const task = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.start(task);
    } else if (this.running === 0) {
      this.waiting = [];
      this.head = 0;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((wake) => wake());
    }
  }
}
