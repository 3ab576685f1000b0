/** One client event to handle: who sent it (the fairness key) and its size as received. */
export interface PortalWork {
  /** The client it came from; unauthenticated sockets share one key. */
  readonly client: string;
  readonly bytes: number;
}

/** Bounds of a {@link PortalWorkQueue}. */
export interface PortalWorkLimits {
  /** Handlers running at once. */
  concurrency: number;
  /** Works waiting, all clients together. */
  maxQueued: number;
  /** Bytes held (waiting, running, or running past the timeout), all clients together. */
  maxQueuedBytes: number;
  /** Part of `maxQueued` (waiting) and `maxQueuedBytes` (held) one client may take, above 0, at most 1. */
  maxClientShare: number;
  /** Milliseconds after which a running work's slot is freed (the work is abandoned, still counted until it settles). */
  handlerTimeout: number;
}

/** Why {@link PortalWorkQueue.push} refused a work. */
export type PortalRefusal = 'maxQueued' | 'maxQueuedBytes' | 'maxClientShare' | 'closed';

/** What the queue reports as it runs. */
export interface PortalWorkEvents<W extends PortalWork> {
  /** A work ran past `handlerTimeout`: its slot went to the next one. */
  hung(work: W): void;
  /** As many works as `concurrency` are abandoned and unsettled (`true`: nothing starts any more), or one settled (`false`). */
  stalled(stalled: boolean): void;
}

/**
 * Runs client events with at most `concurrency` at once, holding a bounded number and size of them, each client
 * within its share, the clients waiting served in turn (round robin), so one flooding client delays the others by
 * at most one event each. A running event that outlives `handlerTimeout` (by at most a tenth of it) gives its
 * slot up; when as many as `concurrency` of those are still unsettled, the queue stalls (starts nothing) until
 * one settles.
 * `run` must not reject.
 */
export class PortalWorkQueue<W extends PortalWork> {
  private readonly buckets = new Map<string, Fifo<W>>();
  /** The clients with works waiting, in the order they are served (each once). */
  private readonly turns = new Fifo<string>();
  private readonly heldByClient = new Map<string, number>();
  private readonly clientMaxQueued: number;
  private readonly clientMaxBytes: number;
  private active = 0;
  private queued = 0;
  private held = 0;
  private abandonedCount = 0;
  private closed = false;
  /** The runs not yet settled nor given up, with their deadlines, and the timer that watches them. */
  private readonly deadlines = new Map<W, number>();
  private watch?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly limits: PortalWorkLimits,
    private readonly run: (work: W) => Promise<void>,
    private readonly events: PortalWorkEvents<W>,
  ) {
    this.clientMaxQueued = Math.max(1, Math.floor(limits.maxQueued * limits.maxClientShare));
    this.clientMaxBytes = Math.max(1, Math.floor(limits.maxQueuedBytes * limits.maxClientShare));
  }

  /** Works running or waiting (not those abandoned). */
  get size(): number {
    return this.active + this.queued;
  }

  /** Works running (not those abandoned). */
  get handling(): number {
    return this.active;
  }

  /** Works waiting for a slot. */
  get waiting(): number {
    return this.queued;
  }

  /** Works that ran past `handlerTimeout` and have not settled. */
  get abandoned(): number {
    return this.abandonedCount;
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Whether as many works as `concurrency` are abandoned and unsettled, so that nothing starts. */
  get stalled(): boolean {
    return this.abandonedCount >= this.limits.concurrency;
  }

  /** Why `work` would be refused now, or `undefined` when it can be taken. */
  private refusal(work: PortalWork): PortalRefusal | undefined {
    if (this.closed) return 'closed';
    const clientHeld = this.heldByClient.get(work.client) ?? 0;
    if (this.held > 0 && this.held + work.bytes > this.limits.maxQueuedBytes) return 'maxQueuedBytes';
    if (clientHeld > 0 && clientHeld + work.bytes > this.clientMaxBytes) return 'maxClientShare';
    if (this.active < this.limits.concurrency && !this.stalled) return undefined;
    if (this.queued >= this.limits.maxQueued) return 'maxQueued';
    if ((this.buckets.get(work.client)?.length ?? 0) >= this.clientMaxQueued) return 'maxClientShare';
    return undefined;
  }

  /** Starts `work` or queues it: `'started'`, `'queued'`, or why it was refused (then it was not taken). */
  push(work: W): 'started' | 'queued' | PortalRefusal {
    const refusal = this.refusal(work);
    if (refusal) return refusal;
    this.hold(work.client, work.bytes);
    if (this.active < this.limits.concurrency && !this.stalled) {
      this.start(work);
      return 'started';
    }
    let bucket = this.buckets.get(work.client);
    if (!bucket) {
      this.buckets.set(work.client, (bucket = new Fifo()));
      this.turns.push(work.client);
    }
    bucket.push(work);
    this.queued++;
    return 'queued';
  }

  /**
   * Resolves true once nothing runs and nothing waits that could start (abandoned works aside; what waits in
   * a stalled queue cannot), or false after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => (clearTimeout(timer), resolve(true)));
    });
  }

  /** Takes nothing more and starts nothing more; drops what waits and returns how many that was. */
  close(): number {
    this.closed = true;
    const dropped = this.queued;
    for (const bucket of this.buckets.values()) {
      for (let work = bucket.shift(); work; work = bucket.shift()) this.release(work);
    }
    this.buckets.clear();
    while (this.turns.shift() !== undefined);
    this.queued = 0;
    this.wakeIfIdle();
    return dropped;
  }

  private get idle(): boolean {
    return this.active === 0 && (this.queued === 0 || this.stalled);
  }

  private start(work: W): void {
    this.active++;
    this.deadlines.set(work, performance.now() + this.limits.handlerTimeout);
    this.watch ??= setInterval(() => this.abandonLate(), Math.max(10, this.limits.handlerTimeout / 10)).unref();
    const settled = () => this.settle(work);
    this.run(work).then(settled, settled);
  }

  private settle(work: W): void {
    this.release(work);
    if (this.deadlines.delete(work)) return this.finish();
    const wasStalled = this.stalled;
    this.abandonedCount--;
    if (wasStalled && !this.stalled) {
      this.events.stalled(false);
      this.startWaiting();
    }
  }

  /** Gives up the runs past their deadline (checked every tenth of `handlerTimeout`: one timer, not one per run). */
  private abandonLate(): void {
    const now = performance.now();
    for (const [work, deadline] of this.deadlines) {
      if (deadline > now) continue;
      this.deadlines.delete(work);
      this.abandonedCount++;
      this.events.hung(work);
      if (this.abandonedCount === this.limits.concurrency) this.events.stalled(true);
      this.finish();
    }
    if (this.deadlines.size === 0) {
      clearInterval(this.watch);
      this.watch = undefined;
    }
  }

  private finish(): void {
    this.active--;
    this.startWaiting();
    this.wakeIfIdle();
  }

  /** Starts waiting works while slots are free, taking one from each client in turn. */
  private startWaiting(): void {
    while (!this.closed && this.queued > 0 && this.active < this.limits.concurrency && !this.stalled) {
      const client = this.turns.shift()!;
      const bucket = this.buckets.get(client)!;
      const work = bucket.shift()!;
      if (bucket.length > 0) this.turns.push(client);
      else this.buckets.delete(client);
      this.queued--;
      this.start(work);
    }
  }

  private wakeIfIdle(): void {
    if (!this.idle) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((wake) => wake());
  }

  private hold(client: string, bytes: number): void {
    this.held += bytes;
    this.heldByClient.set(client, (this.heldByClient.get(client) ?? 0) + bytes);
  }

  private release(work: W): void {
    this.held -= work.bytes;
    const left = (this.heldByClient.get(work.client) ?? 0) - work.bytes;
    if (left > 0) this.heldByClient.set(work.client, left);
    else this.heldByClient.delete(work.client);
  }
}

/** A first-in first-out list with O(1) `shift` (an array and a moving head, compacted now and then). */
class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
