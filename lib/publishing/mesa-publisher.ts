import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BACKLOG_BYTES_PER_CALL, MAX_BATCH_ARGS, MAX_BATCH_DISPATCHES, MAX_BATCH_SIZE } from '../mesa.constants.js';
import type { BacklogCaps } from '../backlog/stored-backlog.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { DISPATCH_BATCH_SCRIPT } from '../redis/dispatch-batch.script.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { redactSecrets } from '../redis/redis-target.js';
import { ScriptRunner } from '../redis/script-runner.js';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import type { PreparedBroadcastExcept } from '../validation/broadcast-input.validator.js';
import type { PreparedDispatch } from '../validation/dispatch-input.validator.js';
import { decodeReplies, encodeBatch, HELD, NOT_RUN, type EntryOutcome, type ScriptCall } from './batch-protocol.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import { broadcastExceptEntry, dispatchEntry, entryOf, type BatchEntry } from './dispatch-entries.js';
import { RetriedDispatch, type RetryPolicy } from './retried-dispatch.js';
import { DeferredStores } from './deferred-stores.js';
import { DispatchFailures, readRedisError, scriptsUnavailable } from './dispatch-failures.js';
import { DispatchQueue } from './dispatch-queue.js';
import { sendWithoutScripts } from './transactional-batch.js';
import { UnawaitedFailureLog } from './unawaited-failure-log.js';
import { BatchTelemetry, trackDispatch } from './dispatch-telemetry.js';
import { mesaTelemetryOf, type MesaTelemetry } from '../telemetry/mesa-telemetry.js';
import { reportQueueLoad, type QueueLoad } from '../telemetry/queue-load.js';

/**
 * The publishing engine: owns the dispatch queue, the batch script and the connection's events. The service
 * validates a dispatch and hands it over with {@link publish} (or {@link broadcastExcept}, or {@link refuse} for
 * input it refused); the publisher turns it into a batch entry, batches the entries, sends each batch in one round
 * trip, settles every dispatch with its result or a truthful error, and on shutdown {@link close}s after draining.
 *
 * When the connection drops, the batches awaiting an answer fail at once as "may have been published"; what
 * waits unsent is sent when it is back (or fails as not sent after `dispatchTimeout`). Where Lua scripts are
 * unavailable (EVAL renamed or forbidden), it says so once and uses WATCH/MULTI transactions instead.
 *
 * A batch whose stores would rewrite more than `BACKLOG_BYTES_PER_CALL` of backlogs is finished in further script
 * calls, each bounded alike, so no call blocks Redis long; meanwhile nothing else is sent, and batches sent before
 * the client knew come back unrun (the script's hold key) and are sent again after it, in order.
 */
export class MesaPublisher {
  private readonly logger = new Logger('MesaDispatcher');
  private readonly failures: DispatchFailures;
  private readonly queue: DispatchQueue;
  private readonly runner: ScriptRunner;
  private readonly caps: BacklogCaps;
  private readonly keys: string[];
  /** The keys of a batch that may store: `keys` and this publisher's hold key. */
  private readonly storeKeys: string[];
  private readonly storeCall: ScriptCall;
  /** Whether a batch's deferred stores are being finished (a batch answered "held" then is expected). */
  private finishing = false;
  /** Reports the failures of dispatches nobody awaited, aggregated. */
  private readonly unawaitedFailures = new UnawaitedFailureLog();
  /** With `retry`: how failed tries are sent again. */
  private readonly retry?: RetryPolicy;
  /** Tries waiting for `retry.delay` before they are sent again. */
  private readonly retriesWaiting = new Set<Promise<void>>();
  private scriptsUnavailable = false;
  private closed = false;
  /** The registration's telemetry (spans and metrics; nothing with `telemetry: false` or no SDK registered). */
  private readonly telemetry: MesaTelemetry;
  /** The entry of a prepared dispatch; none for an empty list. */
  private readonly preparedEntry = (prepared: PreparedDispatch, settlement: Settlement): BatchEntry | undefined =>
    prepared.recipients.length === 0 ? undefined : dispatchEntry(prepared, this.options, settlement);
  /** The entry of a broadcast to all but `excluding`. */
  private readonly exceptEntry = (broadcast: PreparedBroadcastExcept, settlement: Settlement): BatchEntry =>
    broadcastExceptEntry(broadcast, this.options, settlement);

  constructor(
    private readonly options: ResolvedMesaOptions,
    private readonly connection: MesaRedisConnection,
  ) {
    const { client, target } = connection;
    this.runner = new ScriptRunner(connection, DISPATCH_BATCH_SCRIPT);
    this.keys = [options.names.connectedClients, options.names.undeliveredMessages];
    this.storeKeys = [...this.keys, `${options.names.storesHeld}:${randomUUID()}`];
    this.storeCall = { budget: BACKLOG_BYTES_PER_CALL, holdMs: options.dispatchTimeout, keyWindow: options.idempotencyWindow };
    this.caps = { maxCount: options.maxStoredPerUser, maxBytes: options.maxStoredBytesPerUser };
    this.failures = new DispatchFailures(target);
    this.telemetry = mesaTelemetryOf(options);
    const batches = new BatchTelemetry(this.telemetry);
    if (options.retryAttempts > 1) {
      this.retry = {
        attempts: options.retryAttempts,
        delay: options.retryDelay,
        failures: this.failures,
        resend: (fields) => {
          try {
            this.queue.push(entryOf(fields, options.dispatchTimeout));
          } catch (error) {
            fields.promise.fail(error, this.unawaitedFailures.report);
          }
        },
        later: (send, delay) => {
          const waiting = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(send);
          this.retriesWaiting.add(waiting);
          void waiting.finally(() => this.retriesWaiting.delete(waiting));
        },
      };
    }
    this.queue = new DispatchQueue({
      send: (batch, progress) => batches.send(batch, () => this.send(batch, progress)),
      gaveUp: (entries) => batches.gaveUp(entries),
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
    reportQueueLoad(options, () => this.load());
  }

  /**
   * Sends a checked dispatch: published to its recipients, with sync stored for the offline ones. `caller` (the
   * caller's promise, or what `@Dispatch` settles its method's promise with) settles when Redis answered for its
   * batch (or, with `retry`, for the try that succeeded), or fails (see the queue); an empty list succeeds at once.
   */
  publish(prepared: PreparedDispatch, caller: Settlement): void {
    this.submit(prepared, this.preparedEntry, caller);
  }

  /** Sends a checked broadcast to the online authenticated users but `excluding` (see `DispatcherService.broadcast`). */
  broadcastExcept(broadcast: PreparedBroadcastExcept, caller: Settlement): void {
    this.submit(broadcast, this.exceptEntry, caller);
  }

  /** Fails a dispatch refused before it got here (invalid input) with `error`, logged if nobody awaits its promise. */
  refuse(error: unknown, caller: Settlement): void {
    caller.fail(error, this.unawaitedFailures.report);
  }

  /** Resolves once every dispatch pushed so far (and meanwhile) has settled. */
  async drain(): Promise<void> {
    await this.queue.drain();
    // tries waiting for their delay are dispatches in flight too: each sends its entry, then the queue drains it
    while (this.retriesWaiting.size > 0) {
      await Promise.all(this.retriesWaiting);
      await this.queue.drain();
    }
  }

  /** Drains, stops listening to the connection and closes it if the module opened it. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    reportQueueLoad(this.options, undefined);
    this.connection.client.off('ready', this.onReady);
    this.connection.client.off('close', this.onClose);
    this.unawaitedFailures.close();
    await this.connection.close();
  }

  /**
   * Queues the entry `build` makes of `input` (none: nothing to send, succeeded at once), settling `caller`
   * directly or, with `retry`, through its tries. `build` is one of the builders made once with the publisher
   * (`preparedEntry`, `exceptEntry`): thousands of dispatches may be issued in one tick, and none makes a
   * closure or a fields object on its way.
   */
  private submit<I>(input: I, build: (input: I, settlement: Settlement) => BatchEntry | undefined, caller: Settlement): void {
    const settlement = trackDispatch(this.telemetry, caller);
    try {
      if (this.closed) {
        throw new MesaDispatchError('DispatcherService is shut down (the application is closing); the message was not sent.');
      }
      const retried = this.retry && new RetriedDispatch(settlement, this.retry);
      const entry = build(input, retried ?? settlement);
      if (entry === undefined) settlement.succeed({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
      else {
        retried?.sends(entry);
        this.queue.push(entry);
      }
    } catch (error) {
      settlement.fail(error, this.unawaitedFailures.report);
    }
  }

  private async send(batch: BatchEntry[], progress: () => boolean): Promise<EntryOutcome[] | typeof NOT_RUN> {
    if (this.scriptsUnavailable) return this.sendSerialized(batch);
    let args: string[];
    try {
      args = encodeBatch(batch, this.options.names, this.caps, this.storeCall);
    } catch (error) {
      throw new NotSentFailure(`the batch could not be encoded (${(error as Error)?.message ?? error})`);
    }
    let reply: number | string | unknown[];
    try {
      reply = (await this.runner.run(args[1] === 'p' ? this.keys : this.storeKeys, args)) as number | string | unknown[];
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
    if (reply === HELD) return this.held();
    if (typeof reply !== 'number' && reply.length > batch.length) return this.finishStores(batch, reply as unknown[], progress);
    return decodeReplies(batch, reply as number | unknown[]);
  }

  /**
   * The first call deferred some stores: finishes them in continuation calls (nothing else is sent meanwhile), each
   * restarting the batch's `dispatchTimeout`. If one fails or the batch is given up, the dispatches with stores left
   * fail as "may have been published" (published to the online recipients, stored for some) and the hold key is
   * deleted, ahead of any later batch, so that those are not held.
   */
  private async finishStores(batch: BatchEntry[], reply: unknown[], progress: () => boolean): Promise<EntryOutcome[]> {
    const deferred = new DeferredStores(batch, reply);
    const call: ScriptCall = { ...this.storeCall, expiryBase: deferred.expiryBase };
    this.finishing = true;
    const work = (async () => {
      while (deferred.unfinished) {
        if (!progress()) throw new Error(`no answer within dispatchTimeout (${this.options.dispatchTimeout} ms)`);
        const args = encodeBatch(deferred.next(), this.options.names, this.caps, call);
        deferred.merge((await this.runner.run(this.storeKeys, args)) as unknown[]);
      }
    })();
    this.queue.pauseWhile(work);
    try {
      await work;
      return deferred.finish();
    } catch (error) {
      this.releaseHold();
      const reason = redactSecrets((error as Error)?.message ?? String(error), this.options.given);
      return deferred.finish(`Redis at ${this.connection.target} failed (${reason})`);
    } finally {
      this.finishing = false;
    }
  }

  /**
   * A batch the script did not run: an earlier batch's continuation holds stores. Outside of one, the hold key was
   * left by a continuation that stopped: it is deleted, and nothing is sent until every batch sent before is back.
   */
  private held(): typeof NOT_RUN {
    if (!this.finishing) this.queue.pauseWhile(this.releaseHold());
    return NOT_RUN;
  }

  private releaseHold(): Promise<unknown> {
    return this.connection.client.del(this.storeKeys[2]).catch(() => undefined);
  }

  /**
   * Transactions on a connection must not interleave, whichever registration (named modules may share it) sends
   * them: one at a time, through the connection's own queue. Every error Redis answers
   * there (a read under WATCH, EXECABORT) comes before or instead of EXEC, so nothing was published.
   */
  private sendSerialized(batch: BatchEntry[]): Promise<EntryOutcome[]> {
    const send = () =>
      sendWithoutScripts(this.connection.client, this.options.names, batch, this.caps, this.options.idempotencyWindow).catch(
        (error: Error) => {
          if (error?.name !== 'ReplyError' && error?.name !== 'MesaDispatchError') throw error;
          throw new NotSentFailure(`Redis at ${this.connection.target} did not take it: ${readRedisError(error.message).reason}`);
        },
      );
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

  /** What the queue holds now (the gauges and the health indicator read it). */
  private load(): QueueLoad {
    return { queued: this.queue.waitingCount, queuedBytes: this.queue.waitingBytes, unanswered: this.queue.unansweredCount };
  }

  private readonly onReady = () => this.queue.pump();
  private readonly onClose = () => {
    this.runner.connectionLost();
    this.queue.connectionLost('the connection closed');
  };
}

/** A batch failure after which nothing of the batch can have reached the wire. */
class NotSentFailure extends Error {
  override readonly name = 'NotSentFailure';
}
