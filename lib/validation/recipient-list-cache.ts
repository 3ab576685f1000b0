import { idListJson } from './id-list-json.js';
import { checkUserIds } from './user-ids.validator.js';

/** A recipient list as a dispatch sends it: ids checked and de-duplicated, and their JSON text. */
export interface CheckedRecipients {
  /** Never mutated: a cached list is shared by every dispatch that names the same array (results get copies). */
  readonly ids: readonly string[];
  /** `JSON.stringify(ids)`, as the envelope's `recipients`. */
  readonly json: string;
}

interface CachedList extends CheckedRecipients {
  /** The caller's array, compared by identity. */
  readonly source: readonly unknown[];
  /** What `source` held when it was checked; a hit requires the same elements, in order. */
  readonly snapshot: readonly string[];
  /** Hit since the replacement hand last passed: spared once more. */
  used: boolean;
}

/** How many distinct arrays are remembered (a service's rooms, a handful of audiences). */
const SLOTS = 16;
/** Longer lists are checked every time: their copies would keep too much memory alive. */
const MAX_CACHED_IDS = 1000;

/**
 * Remembers the last few recipient arrays checked, so that an application sending to the same array again
 * (a room's members, kept in memory) pays one identity lookup and one element-by-element comparison instead of
 * validating, copying, de-duplicating and serializing the list each time. A hit needs the very same array holding
 * the very same strings as when it was checked (an array changed in place is checked again), so the cache never
 * answers for ids it did not check. Bounded: {@link SLOTS} arrays of at most {@link MAX_CACHED_IDS} ids. A new list
 * replaces one not hit since the replacement hand last passed (the clock algorithm), so a stream of one-off arrays
 * does not push out a room sent to again and again.
 */
export class RecipientListCache {
  private readonly slots: Array<CachedList | undefined> = new Array(SLOTS).fill(undefined);
  private hand = 0;

  /**
   * The checked form of `recipients` (no `excluding`): from the cache when it holds this array unchanged,
   * else checked (MesaValidationError for bad ids), given to `normalize`, and remembered.
   */
  get(recipients: unknown, normalize: (checked: string[]) => string[]): CheckedRecipients {
    let changed = -1;
    if (Array.isArray(recipients)) {
      for (let k = 0; k < SLOTS; k++) {
        const cached = this.slots[k];
        if (cached?.source !== recipients) continue;
        if (!holdsSame(recipients, cached.snapshot)) {
          changed = k;
          break;
        }
        cached.used = true;
        return cached;
      }
    }
    const snapshot = checkUserIds(recipients, 'recipients');
    const ids = normalize(snapshot);
    const json = idListJson(ids);
    if (snapshot.length > MAX_CACHED_IDS) return { ids, json };
    // not frozen: V8 copies frozen arrays (every result's copy) on a slow path
    const cached: CachedList = { source: recipients as unknown[], snapshot, ids, json, used: false };
    if (changed >= 0) {
      // the same array, changed in place: its old reading goes
      this.slots[changed] = cached;
      return cached;
    }
    for (let spared = this.slots[this.hand]; spared?.used; spared = this.slots[this.hand]) {
      spared.used = false;
      this.hand = (this.hand + 1) % SLOTS;
    }
    this.slots[this.hand] = cached;
    this.hand = (this.hand + 1) % SLOTS;
    return cached;
  }
}

/** Whether `array` holds exactly `snapshot`'s strings, in order (each element read once). */
function holdsSame(array: readonly unknown[], snapshot: readonly string[]): boolean {
  const length = array.length;
  if (length !== snapshot.length) return false;
  for (let index = 0; index < length; index++) if (array[index] !== snapshot[index]) return false;
  return true;
}
