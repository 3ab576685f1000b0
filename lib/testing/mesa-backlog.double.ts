import type { MesaBacklog } from '../backlog/mesa-backlog.service.js';
import type { RedeliveredMessage } from '../backlog/redelivered-message.interface.js';
import type { MesaScanOptions } from '../presence/mesa-presence.service.js';
import { MAX_SCAN_COUNT } from '../presence/mesa-presence.service.js';
import { checkPositiveInteger, checkNamedUserId } from '../validation/user-ids.validator.js';
import { RecordingDispatcher } from './recording-dispatcher.js';

/**
 * A stand-in for {@link MesaBacklog} in tests: no Redis; it answers from the messages a
 * {@link RecordingDispatcher} stored for offline recipients (sync enabled), so a dispatch in a test
 * shows up in `count()` and `peek()`, and `clear()` removes it from the dispatcher's `storedFor()` too.
 * It validates input exactly as `MesaBacklog` does. `MesaTestingModule.forRoot()` provides it under
 * the `MesaBacklog` token.
 */
export class MesaBacklogDouble implements Pick<MesaBacklog, 'count' | 'peek' | 'clear' | 'users'> {
  /** @param dispatcher whose stored messages it reports (a fresh one, nothing stored, by default). */
  constructor(readonly dispatcher: RecordingDispatcher = new RecordingDispatcher()) {}

  /** How many messages the dispatcher stored for `id`. */
  async count(id: string): Promise<number> {
    checkNamedUserId(id, 'id');
    return this.dispatcher.storedFor(id).length;
  }

  /** The first `limit` (default: all) of them, oldest first, as a Mesa server would send them (`{ op, d, t, s }`). */
  async peek(id: string, limit?: number): Promise<RedeliveredMessage[]> {
    checkNamedUserId(id, 'id');
    checkPositiveInteger(limit, 'limit', Number.MAX_SAFE_INTEGER);
    return this.dispatcher
      .storedFor(id)
      .slice(0, limit)
      .map(({ op, d, t }, index) => JSON.parse(JSON.stringify({ op, d, t, s: index + 1 })) as RedeliveredMessage);
  }

  /** Forgets them; resolves with how many there were. */
  async clear(id: string): Promise<number> {
    checkNamedUserId(id, 'id');
    return this.dispatcher.clearStoredFor(id);
  }

  /** The users with stored messages, each once. */
  users(options: MesaScanOptions = {}): AsyncGenerator<string, void, undefined> {
    checkPositiveInteger(options?.count, 'count', MAX_SCAN_COUNT);
    const ids = this.dispatcher.storedUserIds();
    return (async function* () {
      yield* ids;
    })();
  }
}
