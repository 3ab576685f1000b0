import type { MesaPresence, MesaScanOptions } from '../presence/mesa-presence.service.js';
import { MAX_SCAN_COUNT } from '../presence/mesa-presence.service.js';
import { checkPositiveInteger, checkNamedUserId, checkNamedUserIds } from '../validation/user-ids.validator.js';
import { RecordingDispatcher } from './recording-dispatcher.js';

/**
 * A stand-in for {@link MesaPresence} in tests: no Redis; it answers from the online ids of a
 * {@link RecordingDispatcher} (its `online` option and `setOnline()`), so presence and the simulated
 * sync always agree. It validates input exactly as `MesaPresence` does (same `MesaValidationError`s).
 * `MesaTestingModule.forRoot()` provides it under the `MesaPresence` token.
 */
export class MesaPresenceDouble implements Pick<MesaPresence, 'isOnline' | 'online' | 'count' | 'sockets' | 'users'> {
  private socketCount?: number;

  /** @param dispatcher whose online ids it reports (a fresh one, nobody online, by default). */
  constructor(readonly dispatcher: RecordingDispatcher = new RecordingDispatcher()) {}

  /** Whether `id` is among the dispatcher's online ids. */
  async isOnline(id: string): Promise<boolean> {
    checkNamedUserId(id, 'id');
    return this.dispatcher.onlineIds().includes(id);
  }

  /** Which of `ids` are online, in the order given, each once. */
  async online(ids: readonly string[]): Promise<Set<string>> {
    checkNamedUserIds(ids, 'ids');
    const online = new Set(this.dispatcher.onlineIds());
    return new Set(ids.filter((id) => online.has(id)));
  }

  /** How many ids are online. */
  async count(): Promise<number> {
    return this.dispatcher.onlineIds().length;
  }

  /** What {@link setSockets} set, else one socket per online id. */
  async sockets(): Promise<number> {
    return this.socketCount ?? this.dispatcher.onlineIds().length;
  }

  /** The online ids, each once. */
  users(options: MesaScanOptions = {}): AsyncGenerator<string, void, undefined> {
    checkPositiveInteger(options?.count, 'count', MAX_SCAN_COUNT);
    const ids = this.dispatcher.onlineIds();
    return (async function* () {
      yield* ids;
    })();
  }

  /** Sets what {@link sockets} reports (Mesa's socket counter; `undefined`: one per online id). */
  setSockets(count: number | undefined): void {
    this.socketCount = count;
  }
}
