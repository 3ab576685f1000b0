import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { DISPATCH_BATCH_SCRIPT } from '../redis/dispatch-batch.script.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import type { BatchEntry, BatchReply } from './batch-entry.js';
import { sendWithoutScripts } from './transactional-batch.js';

const SCRIPT_SHA = createHash('sha1').update(DISPATCH_BATCH_SCRIPT).digest('hex');
const SCRIPTS_UNAVAILABLE = /unknown command|NOPERM|not allowed|disabled/i;

/**
 * Sends a batch of dispatches to Redis in one round trip with {@link DISPATCH_BATCH_SCRIPT} (by SHA,
 * loading it on NOSCRIPT). Where Lua scripts are unavailable (renamed or forbidden EVAL), it says so
 * once in the logs and from then on uses pipelined PUBLISH and WATCH/MULTI transactions instead.
 */
export class BatchSender {
  private readonly logger = new Logger('MesaDispatcher');
  private scriptsUnavailable = false;
  private transactionChain: Promise<unknown> = Promise.resolve();
  /** EVALSHA calls awaiting their reply, in the order they were sent. */
  private readonly awaitingReply = new Set<Promise<unknown>>();
  /** While batches answered NOSCRIPT are being re-sent: later batches wait, so none overtakes them. */
  private reloading?: { done: Promise<void>; release(): void };

  constructor(
    private readonly client: Redis,
    private readonly names: MesaRedisNames,
    private readonly target: string,
    /** Cap on one user's stored messages; 0: none. */
    private readonly maxStoredPerUser = 0,
  ) {}

  /** One reply per entry, in order. Rejects only when Redis failed the batch as a whole. */
  async send(entries: BatchEntry[]): Promise<BatchReply[]> {
    while (this.reloading) await this.reloading.done;
    if (this.scriptsUnavailable) return this.sendSerialized(entries);
    const args = entries.some((entry) => entry.sync || entry.excluding) ? this.entriesLayout(entries) : this.linesLayout(entries);
    try {
      return (await this.runScript(args)) as BatchReply[];
    } catch (error) {
      if (!SCRIPTS_UNAVAILABLE.test(String((error as Error)?.message))) throw error;
      if (!this.scriptsUnavailable) {
        this.scriptsUnavailable = true;
        this.logger.warn(
          `Lua scripts are unavailable on Redis at ${this.target} (${(error as Error).message.split('\n')[0]}); ` +
            'dispatching with pipelined PUBLISH and WATCH/MULTI transactions instead (slower, equally safe).',
        );
      }
      return this.sendSerialized(entries);
    }
  }

  /**
   * The connection dropped: commands awaiting a reply will get none (ioredis drops them when resending
   * is off), so stop waiting for them; a new connection starts with whatever script cache Redis has.
   */
  connectionLost(): void {
    this.awaitingReply.clear();
    this.reloading?.release();
  }

  private linesLayout(entries: BatchEntry[]): string[] {
    let lines = entries[0].envelope!;
    for (let k = 1; k < entries.length; k++) lines += `\n${entries[k].envelope}`;
    return [this.names.connectedClients, this.names.undeliveredMessages, this.names.channel, 'lines', lines];
  }

  private entriesLayout(entries: BatchEntry[]): string[] {
    const args = [
      this.names.connectedClients,
      this.names.undeliveredMessages,
      this.names.channel,
      'entries',
      String(this.maxStoredPerUser),
    ];
    const lists = new Map<string, number>();
    let last: { ids: readonly string[]; index: number } | undefined;
    for (const { sync, prepared, envelope, excluding } of entries) {
      if (excluding) {
        args.push('x', prepared.messageJson, String(excluding.length), ...excluding);
        continue;
      }
      if (!sync) {
        args.push('p', envelope!);
        continue;
      }
      const { recipients } = prepared;
      // consecutive dispatches to one room are the common case: compare with the last list before hashing
      let known = last && sameIds(last.ids, recipients) ? last.index : undefined;
      if (known === undefined) {
        const key = recipients.join('\u0000');
        known = lists.get(key);
        if (known === undefined) {
          lists.set(key, lists.size + 1);
          args.push('s', prepared.messageJson, String(recipients.length), ...recipients);
          last = { ids: recipients, index: lists.size };
          continue;
        }
        last = { ids: recipients, index: known };
      }
      args.push('s', prepared.messageJson, `=${known}`);
    }
    return args;
  }

  /**
   * EVALSHA, and EVAL when Redis lost its script cache (restart, failover, SCRIPT FLUSH). Then every
   * batch already sent is answered NOSCRIPT too, and each is re-sent as its answer arrives; batches
   * issued meanwhile wait until all of those are re-sent, so call order holds across the reload.
   */
  private async runScript(args: string[]): Promise<unknown> {
    const attempt = this.client.evalsha(SCRIPT_SHA, 2, ...args);
    this.awaitingReply.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      if (!this.reloading) {
        let release!: () => void;
        const reload = { done: new Promise<void>((resolve) => (release = resolve)), release: () => undefined };
        reload.release = () => {
          if (this.reloading === reload) this.reloading = undefined;
          release();
        };
        this.reloading = reload;
        void Promise.allSettled(this.awaitingReply).then(reload.release);
      }
      return this.client.eval(DISPATCH_BATCH_SCRIPT, 2, ...args);
    } finally {
      this.awaitingReply.delete(attempt);
    }
  }

  /** Transactions on a shared connection must not interleave: one batch at a time. */
  private sendSerialized(entries: BatchEntry[]): Promise<BatchReply[]> {
    const next = this.transactionChain.then(() => sendWithoutScripts(this.client, this.names, entries, this.maxStoredPerUser));
    this.transactionChain = next.catch(() => undefined);
    return next;
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
