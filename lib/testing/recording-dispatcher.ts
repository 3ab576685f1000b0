import { DispatchPromise } from '../dispatch-promise.js';
import type { DispatcherService } from '../dispatcher.service.js';
import { MesaDispatchError, MesaValidationError } from '../errors/mesa.errors.js';
import type { BroadcastOptions } from '../interfaces/broadcast-options.interface.js';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { DispatchErrorMode } from '../interfaces/mesa-module-options.interface.js';
import { StoredBacklog, type BacklogCaps } from '../backlog/stored-backlog.js';
import { BROADCAST, BROADCAST_RECIPIENTS } from '../mesa.constants.js';
import { UnawaitedFailureLog } from '../publishing/unawaited-failure-log.js';
import { resolveMesaOptions, storedCopiesTtl, type ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { AnyEvents, DispatchableFor, EventMap } from '../events/event-map.js';
import { DISCONNECT_CLIENT, type WireMessage } from '../messages/message.js';
import { mesaRedisNames } from '../redis/mesa-redis-names.js';
import { prepareBroadcastExcept } from '../validation/broadcast-input.validator.js';
import { prepareDispatch } from '../validation/dispatch-input.validator.js';
import { checkNamedUserIds } from '../validation/user-ids.validator.js';
import { checkExpectedDispatch, describeDispatch, describeMissingDispatch, dispatchDifferences } from './dispatch-expectations.js';
import type { ExpectedDispatch, RecordedDispatch, RecordingDispatcherOptions } from './recorded-dispatch.interface.js';

/**
 * A stand-in for {@link DispatcherService} in tests: no Redis, every dispatch recorded.
 *
 * It validates input exactly as the real service does (same {@link MesaValidationError}s), applies
 * `excluding` and de-duplication, simulates sync against a set of online ids, and resolves with the
 * same {@link DispatchResult}. `@Dispatch` works with it. Register it with `MesaTestingModule.forRoot()`,
 * or `overrideProvider(DispatcherService).useValue(new RecordingDispatcher())`.
 *
 * @typeParam Events the event map, as `DispatcherService<Events>` takes it (compile time only).
 */
export class RecordingDispatcher<Events extends EventMap = AnyEvents> implements Pick<
  DispatcherService<Events>,
  'dispatch' | 'broadcast' | 'disconnect' | 'decoratorErrorMode' | 'maxPayloadBytes'
> {
  /** Every accepted dispatch, in call order. */
  readonly dispatches: RecordedDispatch[] = [];
  /** Logs the failures of dispatches nobody awaited, aggregated as the real service does. */
  private readonly unawaitedFailures = new UnawaitedFailureLog();
  /** The options as `MesaModule` would resolve them: the same defaults, caps and checks. */
  private readonly resolved: ResolvedMesaOptions;
  private readonly now: () => number;
  private readonly caps: BacklogCaps;
  /** Each user's backlog as the script would hold it in `undelivered_messages` (Mesa's format), by first store. */
  private readonly stored = new Map<string, string>();
  private readonly channel: string;
  /** The idempotency keys used within the window: key → when it is forgotten (on the double's clock). */
  private readonly keys = new Map<string, number>();
  private online: Set<string>;
  private receivers: number;
  private pendingFailure?: string;

  /** @param options sync simulation, online ids, namespace, reported receivers, `@Dispatch` error mode. */
  constructor(private readonly options: RecordingDispatcherOptions = {}) {
    const { namespace, sync, maxPayloadBytes, maxStoredPerUser, maxStoredBytesPerUser, dispatchErrors, idempotency } = options;
    const given = {
      url: 'redis://mesa-testing.invalid',
      namespace,
      sync,
      maxPayloadBytes,
      maxStoredPerUser,
      maxStoredBytesPerUser,
      dispatchErrors,
      idempotency,
    };
    this.resolved = resolveMesaOptions(Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)));
    this.now = options.now ?? Date.now;
    this.caps = { maxCount: this.resolved.maxStoredPerUser, maxBytes: this.resolved.maxStoredBytesPerUser };
    this.channel = mesaRedisNames(options.namespace).channel;
    this.online = new Set(options.online === undefined ? [] : checkNamedUserIds(options.online, 'online'));
    this.receivers = options.receivers ?? 0;
  }

  /** Records `message` for `recipients` minus `excluding`, as `DispatcherService.dispatch()` would send it. */
  dispatch(message: DispatchableFor<Events>, recipients?: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    return this.settle(() => {
      const prepared = prepareDispatch(message, recipients, excluding, this.resolved.maxPayloadBytes);
      const storing = this.resolved.syncEnabled && prepared.storable && !prepared.broadcast;
      const ttl = storing ? storedCopiesTtl(this.resolved, prepared.ttl) : 0;
      if (prepared.recipients.length > 0) {
        this.failIfAsked();
        if (this.isDuplicate(prepared.idempotencyKey)) return duplicateOf([...prepared.recipients]);
      }
      return this.record(prepared.messageJson, [...prepared.recipients], prepared.storable, undefined, ttl);
    });
  }

  /**
   * Records a broadcast (`['*']`), as `DispatcherService.broadcast()`; with `{ excluding }`, a
   * broadcast to the simulated online ids (see `online`, `setOnline`) minus `excluding`, never stored.
   */
  broadcast(message: DispatchableFor<Events>, options?: BroadcastOptions): Promise<DispatchResult> {
    if (options === undefined) return this.dispatch(message, BROADCAST_RECIPIENTS);
    return this.settle(() => {
      const { prepared, excluding } = prepareBroadcastExcept(message, options, this.resolved.maxPayloadBytes);
      this.failIfAsked();
      if (this.isDuplicate(prepared.idempotencyKey)) return duplicateOf([]);
      const skip = new Set(excluding);
      const reached = [...this.online].filter((id) => !skip.has(id));
      return this.record(prepared.messageJson, reached, false, excluding);
    });
  }

  /** Records a `DISCONNECT_CLIENT` event, as `DispatcherService.disconnect()`. */
  disconnect(recipients: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    return this.dispatch(DISCONNECT_CLIENT as DispatchableFor<Events>, recipients ?? (null as never), excluding);
  }

  /** What `@Dispatch` does when a dispatch fails and the decorator says no `onError` (as `DispatcherService`'s). */
  get decoratorErrorMode(): DispatchErrorMode {
    return this.resolved.dispatchErrors;
  }

  /** The largest message accepted, in bytes of JSON (as `DispatcherService`'s). */
  get maxPayloadBytes(): number {
    return this.resolved.maxPayloadBytes;
  }

  /**
   * Replaces the ids treated as online for sync simulation (and by the presence double).
   * @throws MesaValidationError for ids `MesaPresence` could never report (not a list of non-blank strings, or `'*'`).
   */
  setOnline(ids: readonly string[]): void {
    this.online = new Set(checkNamedUserIds(ids, 'setOnline(ids)'));
  }

  /** Sets the `receivers` reported for dispatches that publish something. */
  setReceivers(count: number): void {
    this.receivers = count;
  }

  /** Makes the next valid dispatch reject with {@link MesaDispatchError}, as when Redis fails. */
  failNextDispatch(reason = 'connection lost'): void {
    this.pendingFailure = reason;
  }

  /** Recorded dispatches, all or of one message type. */
  dispatched(type?: string): RecordedDispatch[] {
    return type === undefined ? [...this.dispatches] : this.dispatches.filter((record) => record.type === type);
  }

  /** The most recent dispatch, all or of one message type. */
  lastDispatch(type?: string): RecordedDispatch | undefined {
    return this.dispatched(type).at(-1);
  }

  /** The messages sync would hold for `userId` (the `undelivered_messages` field), oldest first, expired ones left out. */
  storedFor(userId: string): WireMessage[] {
    return this.liveCopies(userId);
  }

  /** The ids treated as online, as `setOnline` / the `online` option set them (the presence double reads them). */
  onlineIds(): string[] {
    return [...this.online];
  }

  /** The users sync holds messages for, in the order their first message was stored (the backlog double reads them). */
  storedUserIds(): string[] {
    return [...this.stored.keys()].filter((id) => this.liveCopies(id).length > 0);
  }

  /** Forgets the messages held for `userId`, as `MesaBacklog.clear()` does; returns how many there were. */
  clearStoredFor(userId: string): number {
    const count = this.liveCopies(userId).length;
    this.stored.delete(userId);
    return count;
  }

  /**
   * Returns the first dispatch of `type` matching every key of `expected` (see {@link ExpectedDispatch}):
   * `to`, `excluding`, `data`, `message`, `publishedTo`, `storedFor`.
   * @throws MesaValidationError for an expectation with an unknown key or a malformed value.
   * @throws Error describing each recorded dispatch of `type` and the keys it differs in, when none matches
   * (works with any test framework).
   */
  expectDispatched(type: string, expected?: Omit<ExpectedDispatch, 'type'>): RecordedDispatch;
  /** As above, with the type (optional: any type) among the keys: `expectDispatched({ type: 'NEW_MESSAGE', to: ['bob'] })`. */
  expectDispatched(expected: ExpectedDispatch): RecordedDispatch;
  expectDispatched(typeOrExpected: string | ExpectedDispatch, expected: ExpectedDispatch = {}): RecordedDispatch {
    let wanted: ExpectedDispatch;
    if (typeof typeOrExpected === 'string') {
      const call = `expectDispatched('${typeOrExpected}', expected)`;
      wanted = checkExpectedDispatch(expected, call);
      if ('type' in wanted) throw new MesaValidationError(`${call}: give the type once, as the first argument or as expected.type.`);
      wanted = { ...wanted, type: typeOrExpected };
    } else {
      wanted = checkExpectedDispatch(typeOrExpected, 'expectDispatched(expected)');
    }
    const match = this.dispatches.find((record) => dispatchDifferences(record, wanted).length === 0);
    if (!match)
      throw new Error(
        describeMissingDispatch(wanted, this.dispatches, { syncEnabled: this.resolved.syncEnabled, online: this.onlineIds() }),
      );
    return match;
  }

  /** @throws Error when anything (or anything of `type`) was dispatched. */
  expectNothingDispatched(type?: string): void {
    const found = this.dispatched(type);
    if (found.length > 0) {
      const what = type === undefined ? 'nothing to be dispatched' : `no '${type}' dispatch`;
      throw new Error(`Expected ${what}, but recorded:\n${found.map((record) => `  - ${describeDispatch(record)}`).join('\n')}`);
    }
  }

  /** Forgets recorded dispatches and stored messages (online ids and options stay). */
  clear(): void {
    this.dispatches.length = 0;
    this.stored.clear();
    this.pendingFailure = undefined;
  }

  private settle(work: () => DispatchResult): Promise<DispatchResult> {
    const promise = DispatchPromise.pending<DispatchResult>();
    try {
      promise.succeed(work());
    } catch (error) {
      promise.fail(error, this.unawaitedFailures.report);
    }
    return promise;
  }

  /**
   * The batch script's idempotency rule on the double's clock: a key used within `idempotency.window` makes the
   * dispatch a duplicate (nothing recorded, published or stored); otherwise the key is remembered for the window.
   */
  private isDuplicate(key: string | undefined): boolean {
    if (key === undefined) return false;
    const now = this.now();
    for (const [used, until] of this.keys) if (until <= now) this.keys.delete(used);
    if (this.keys.has(key)) return true;
    this.keys.set(key, now + this.resolved.idempotencyWindow);
    return false;
  }

  private failIfAsked(): void {
    if (this.pendingFailure === undefined) return;
    const reason = this.pendingFailure;
    this.pendingFailure = undefined;
    throw new MesaDispatchError(`Redis did not take the dispatch (simulated by RecordingDispatcher.failNextDispatch): ${reason}`);
  }

  private record(messageJson: string, recipients: string[], storable: boolean, excluding?: string[], ttl = 0): DispatchResult {
    const message = JSON.parse(messageJson) as WireMessage;
    const broadcast = recipients[0] === BROADCAST;
    let publishedTo = recipients;
    let storedFor: string[] = [];
    const dropped: Record<string, number> = Object.create(null);
    const expired: Record<string, number> = Object.create(null);
    if (this.resolved.syncEnabled && storable && !broadcast) {
      publishedTo = recipients.filter((id) => this.online.has(id));
      storedFor = recipients.filter((id) => !this.online.has(id));
      const expires = ttl > 0 ? this.now() + ttl : undefined;
      for (const id of storedFor) this.store(id, messageJson, expires, dropped, expired);
    }
    const result: DispatchResult = { recipients, publishedTo, storedFor, receivers: publishedTo.length > 0 ? this.receivers : 0 };
    if (Object.keys(dropped).length > 0) result.dropped = dropped;
    if (Object.keys(expired).length > 0) result.expired = expired;
    const type = message.t;
    const recorded: RecordedDispatch = { type, message, recipients, broadcast, publishedTo, storedFor, channel: this.channel, result };
    if (excluding) recorded.excluding = excluding;
    this.dispatches.push(recorded);
    return { ...result, recipients: [...recipients], publishedTo: [...publishedTo], storedFor: [...storedFor] };
  }

  /**
   * Stores one message for `id` by the batch script's rule, through {@link StoredBacklog} (as the WATCH/MULTI
   * fallback does, on the double's clock): every expired message removed and counted, then the oldest dropped while
   * over a cap; the text kept is the one the script would write.
   */
  private store(id: string, messageJson: string, expires: number | undefined, dropped: Counts, expired: Counts): void {
    const backlog = StoredBacklog.load(this.stored.get(id), this.caps)!;
    backlog.removeExpired(this.now());
    const count = backlog.append(messageJson, expires);
    if (count > 0) dropped[id] = count;
    if (backlog.expired > 0) expired[id] = backlog.expired;
    const text = backlog.text();
    if (text === undefined) this.stored.delete(id);
    else this.stored.set(id, text);
  }

  /** The messages stored for `id` that have not expired, as Mesa rebuilds them (without the expiry and backlog state). */
  private liveCopies(id: string): WireMessage[] {
    const text = this.stored.get(id);
    if (text === undefined) return [];
    const now = this.now();
    const live: WireMessage[] = [];
    for (const { x, ...message } of JSON.parse(text) as StoredMessage[]) {
      if (x !== undefined && x <= now) continue;
      for (const state of BACKLOG_STATE) delete message[state];
      live.push(message);
    }
    return live;
  }
}

type Counts = Record<string, number>;

/** What a duplicate dispatch resolves with: nothing published or stored (see `DispatchResult.duplicate`). */
function duplicateOf(recipients: string[]): DispatchResult {
  return { recipients, publishedTo: [], storedFor: [], receivers: 0, duplicate: true };
}

/** A message as stored: its expiry (`x`) first, and on the last one the backlog's state (`m`, `l`, `n`). */
type StoredMessage = WireMessage & { x?: number; m?: number; l?: number; n?: number };

const BACKLOG_STATE = ['m', 'l', 'n'] as const;
