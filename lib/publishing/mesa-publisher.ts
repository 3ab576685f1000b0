import { Inject, Injectable, Logger } from '@nestjs/common';
import { MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS, MAX_BATCH_ARGS, MAX_BATCH_DISPATCHES, MAX_BATCH_SIZE } from '../mesa.constants.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { DISPATCH_BATCH_SCRIPT, DISPATCH_BATCH_SCRIPT_LEGACY } from '../redis/dispatch-batch.script.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { redactSecrets } from '../redis/redis-target.js';
import { decodeReplies, encodeBatch, type BacklogCaps, type BatchEntry, type EntryOutcome } from './batch-protocol.js';
import { DispatchFailures, readRedisError, scriptsUnavailable } from './dispatch-failures.js';
import { DispatchQueue } from './dispatch-queue.js';
import { ScriptRunner } from './script-runner.js';
import { sendWithoutScripts } from './transactional-batch.js';
import { UnawaitedFailureLog } from './unawaited-failure-log.js';

/**
 * The publishing engine: owns the dispatch queue, the batch script and the connection's events. The service
 * prepares dispatches and {@link push}es them; the publisher batches them, sends each batch in one round trip,
 * settles every dispatch with its result or a truthful error, and on shutdown {@link close}s after draining.
 *
 * When the connection drops, the batches awaiting an answer fail at once as "may have been published"; what
 * waits unsent is sent when it is back (or fails as not sent after `dispatchTimeout`). Where Lua scripts are
 * unavailable (EVAL renamed or forbidden), it says so once and uses WATCH/MULTI transactions instead.
 */
@Injectable()
export class MesaPublisher {
  private readonly logger = new Logger('MesaDispatcher');
  private readonly failures: DispatchFailures;
  private readonly queue: DispatchQueue;
  private readonly runner: ScriptRunner;
  private readonly caps: BacklogCaps;
  private readonly keys: string[];
  /** Reports the failures of dispatches nobody awaited, aggregated. */
  readonly unawaitedFailures = new UnawaitedFailureLog();
  private scriptsUnavailable = false;
  private closed = false;

  constructor(
    @Inject(MESA_RESOLVED_OPTIONS) private readonly options: ResolvedMesaOptions,
    @Inject(MESA_REDIS_CONNECTION) private readonly connection: MesaRedisConnection,
  ) {
    const { client, target, serverMajorVersion } = connection;
    const script = serverMajorVersion > 0 && serverMajorVersion < 7 ? DISPATCH_BATCH_SCRIPT_LEGACY : DISPATCH_BATCH_SCRIPT;
    this.runner = new ScriptRunner(client, script, 2);
    this.keys = [options.names.connectedClients, options.names.undeliveredMessages];
    this.caps = { maxCount: options.maxStoredPerUser, maxBytes: options.maxStoredBytesPerUser };
    this.failures = new DispatchFailures(target);
    this.queue = new DispatchQueue({
      send: (batch) => this.send(batch),
      batchFailure: (error) => this.batchFailure(error),
      connectionStatus: () => client.status,
      failures: this.failures,
      onUnconsumedFailure: this.unawaitedFailures.report,
      dispatchTimeout: options.dispatchTimeout,
      whenDisconnected: options.whenDisconnected,
      limits: {
        batchEntries: MAX_BATCH_DISPATCHES,
        batchSize: MAX_BATCH_SIZE,
        batchArgs: MAX_BATCH_ARGS,
        unansweredBatches: options.maxUnansweredBatches,
        unansweredSize: options.maxUnansweredBytes,
        queuedDispatches: options.maxQueuedDispatches,
        queuedSize: options.maxQueuedBytes,
      },
    });
    client.on('ready', this.onReady);
    client.on('close', this.onClose);
  }

  /** Whether {@link close} has begun: pushing is then refused by the service. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a prepared dispatch; its promise settles when Redis answered for its batch, or fails (see the queue). */
  push(entry: BatchEntry): void {
    this.queue.push(entry);
  }

  /** Resolves once every dispatch pushed so far (and meanwhile) has settled. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** Drains, stops listening to the connection and closes it if the module opened it. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    this.connection.client.off('ready', this.onReady);
    this.connection.client.off('close', this.onClose);
    this.unawaitedFailures.close();
    await this.connection.close();
  }

  private async send(batch: BatchEntry[]): Promise<EntryOutcome[]> {
    if (this.scriptsUnavailable) return this.sendSerialized(batch);
    let args: string[];
    try {
      args = encodeBatch(batch, this.options.names, this.caps);
    } catch (error) {
      throw new NotSentFailure(`the batch could not be encoded (${(error as Error)?.message ?? error})`);
    }
    try {
      return decodeReplies(batch, (await this.runner.run(this.keys, args)) as number | unknown[]);
    } catch (error) {
      const message = String((error as Error)?.message);
      if ((error as Error)?.name !== 'ReplyError' || !scriptsUnavailable(message)) throw error;
      if (!this.scriptsUnavailable) {
        this.scriptsUnavailable = true;
        this.logger.warn(
          `Lua scripts are unavailable on Redis at ${this.connection.target} (${message.split('\n')[0]}); ` +
            'dispatching with pipelined PUBLISH and WATCH/MULTI transactions instead (slower, equally safe).',
        );
      }
      return this.sendSerialized(batch);
    }
  }

  /**
   * Transactions on a connection must not interleave, whichever registration (named modules may share it) sends
   * them: one at a time, through the connection's own queue. Every error Redis answers
   * there (a read under WATCH, EXECABORT) comes before or instead of EXEC, so nothing was published.
   */
  private sendSerialized(batch: BatchEntry[]): Promise<EntryOutcome[]> {
    const send = () =>
      sendWithoutScripts(this.connection.client, this.options.names, batch, this.caps).catch((error: Error) => {
        if (error?.name !== 'ReplyError' && error?.name !== 'MesaDispatchError') throw error;
        throw new NotSentFailure(`Redis at ${this.connection.target} did not take it: ${readRedisError(error.message).reason}`);
      });
    return this.connection.exclusive(send);
  }

  private batchFailure(error: unknown) {
    const message = redactSecrets((error as Error)?.message ?? String(error), this.options.given);
    if (error instanceof NotSentFailure) return this.failures.notSent(message);
    if ((error as Error)?.name === 'ReplyError') {
      const reading = readRedisError(message);
      return this.failures.fromEntry({ reason: reading.reason, mayHaveBeenPublished: !reading.refusedBeforeRunning });
    }
    return this.failures.connectionLost(message);
  }

  private readonly onReady = () => this.queue.pump();
  private readonly onClose = () => {
    this.runner.connectionLost();
    this.queue.connectionLost('the connection closed');
  };
}

/** A batch failure after which nothing of the batch can have reached the wire. */
class NotSentFailure extends Error {}
