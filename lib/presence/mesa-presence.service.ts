import { Logger } from '@nestjs/common';
import { MesaRedisError } from '../errors/mesa.errors.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { isUnsupported, MesaRedisReader } from './mesa-redis-reader.js';
import { checkPositiveInteger, checkNamedUserId, checkNamedUserIds } from '../validation/user-ids.validator.js';

/** Options of {@link MesaPresence.users} and `MesaBacklog.users`. */
export interface MesaScanOptions {
  /** Hint of how many entries Redis looks at per round trip (SSCAN/HSCAN `COUNT`), 1 to 10000. Default 500. */
  count?: number;
}

/** Default SSCAN/HSCAN `COUNT` hint. */
export const DEFAULT_SCAN_COUNT = 500;
/** Largest SSCAN/HSCAN `COUNT` hint accepted. */
export const MAX_SCAN_COUNT = 10_000;
/** Ids per SMISMEMBER command; a long list becomes several commands in one round trip. */
const MEMBERSHIP_CHUNK = 1_000;

/**
 * Who is online, as the Mesa servers of the module's namespace record it in Redis: the
 * `connected_clients[_<namespace>]` SET (an id is added when one of its sockets authenticates) and
 * the `connected_clients_count[_<namespace>]` counter of open sockets.
 *
 * Mesa's own limits shape what the answers mean: an id leaves the set when **any** of its sockets
 * closes (so a user with two tabs who closes one reads as offline), and a replica that is killed
 * (rather than stopped) leaves its ids in the set and its sockets in the counter. "Online" therefore
 * means "a socket of this id authenticated and Mesa has not seen one of its sockets close since".
 *
 * Every method fails with {@link MesaValidationError} for bad input and {@link MesaRedisError} when
 * Redis does not answer within `dispatchTimeout` or the key holds something else (WRONGTYPE).
 */
export class MesaPresence {
  private readonly logger = new Logger('MesaModule');
  private readonly names: MesaRedisNames;
  private readonly reader: MesaRedisReader;
  private smismember = true;

  /** @param options the module's options (namespace, dispatchTimeout); @param connection its Redis connection. */
  constructor(options: ResolvedMesaOptions, connection: MesaRedisConnection) {
    this.names = options.names;
    this.reader = new MesaRedisReader(connection.client, connection.target, options.dispatchTimeout);
  }

  /** Whether `id` is in Mesa's online set. @throws MesaValidationError for an id that is not a non-empty string. */
  async isOnline(id: string): Promise<boolean> {
    checkNamedUserId(id, 'id');
    const key = this.names.connectedClients;
    return (await this.reader.run('SISMEMBER', key, 'set', () => this.reader.client.sismember(key, id))) === 1;
  }

  /**
   * Which of `ids` are online, in one round trip: SMISMEMBER where Redis has it (6.2+), else pipelined
   * SISMEMBER (found out once, from Redis's answer). Resolves with the online ones, in the order given,
   * each once; an empty list resolves at once.
   */
  async online(ids: readonly string[]): Promise<Set<string>> {
    checkNamedUserIds(ids, 'ids');
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Set();
    const flags = await this.memberships(unique);
    return new Set(unique.filter((_, index) => flags[index] === 1));
  }

  /** How many ids are online (SCARD). */
  async count(): Promise<number> {
    const key = this.names.connectedClients;
    return this.reader.run('SCARD', key, 'set', () => this.reader.client.scard(key));
  }

  /**
   * Open sockets, authenticated or not, on every replica: Mesa's `connected_clients_count` counter.
   * It drifts: a killed replica never takes its sockets off, and a Redis restart while sockets are open
   * makes their closing push it below zero, which reads as 0.
   */
  async sockets(): Promise<number> {
    const key = this.names.connectedClientsCount;
    const value = await this.reader.run('GET', key, 'counter', () => this.reader.client.get(key));
    if (value === null) return 0;
    if (!/^-?\d{1,18}$/.test(value)) {
      throw new MesaRedisError(
        `Redis key '${key}' holds ${JSON.stringify(value.slice(0, 40))}, not the integer counter Mesa servers keep there. ` +
          'Another application uses that name: give the Mesa servers and MesaModule another namespace, or delete that key.',
      );
    }
    return Math.max(0, Number(value));
  }

  /**
   * Every online id, each once, through SSCAN (never SMEMBERS): `for await (const id of presence.users())`.
   * Ids online for the whole iteration are yielded; ones that come or go meanwhile may or may not be.
   * @throws MesaValidationError at once for a `count` outside 1..10000; the iterator rejects with MesaRedisError.
   */
  users(options: MesaScanOptions = {}): AsyncGenerator<string, void, undefined> {
    const count = checkPositiveInteger(options?.count, 'count', MAX_SCAN_COUNT) ?? DEFAULT_SCAN_COUNT;
    return this.reader.setMembers(this.names.connectedClients, count, 'SSCAN');
  }

  private async memberships(ids: string[]): Promise<number[]> {
    const key = this.names.connectedClients;
    if (this.smismember) {
      try {
        return await this.reader.run('SMISMEMBER', key, 'set', () =>
          this.pipelined(ids, (pipeline, chunk) => pipeline.smismember(key, ...chunk)),
        );
      } catch (error) {
        if (!isUnsupported((error as Error).cause ?? error)) throw error;
        if (this.smismember)
          this.logger.log(`Redis has no SMISMEMBER (before 6.2, or not allowed): presence.online() uses pipelined SISMEMBER.`);
        this.smismember = false;
      }
    }
    return this.reader.run('SISMEMBER', key, 'set', () =>
      this.pipelined(ids, (pipeline, chunk) => chunk.forEach((id) => pipeline.sismember(key, id)), 1),
    );
  }

  /** Sends `ids` in chunks through one pipeline (one round trip) and flattens the replies. */
  private async pipelined(
    ids: string[],
    add: (pipeline: ReturnType<MesaRedisReader['client']['pipeline']>, chunk: string[]) => void,
    chunkSize = MEMBERSHIP_CHUNK,
  ): Promise<number[]> {
    const pipeline = this.reader.client.pipeline();
    for (let start = 0; start < ids.length; start += chunkSize) add(pipeline, ids.slice(start, start + chunkSize));
    const replies = (await pipeline.exec()) ?? [];
    const flags: number[] = [];
    for (const [error, reply] of replies) {
      if (error) throw error;
      if (Array.isArray(reply)) flags.push(...(reply as number[]));
      else flags.push(reply as number);
    }
    return flags;
  }
}
