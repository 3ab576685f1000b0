import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MesaRedisError } from '../errors/mesa.errors.js';
import { TimeoutError, withTimeout } from '../redis/redis-connection.js';

/** What a Mesa key holds, for error messages that say what was expected there. */
export type MesaKeyKind = 'set' | 'hash' | 'counter';

const KIND_LABEL: Record<MesaKeyKind, string> = {
  set: 'a SET (the ids of online users)',
  hash: 'a HASH (the messages stored for offline users)',
  counter: 'a string counter (the number of open sockets)',
};

/** Redis refused an option or command it does not know (older server, renamed or forbidden command). */
const UNSUPPORTED = /unknown command|syntax error|NOPERM|not allowed|disabled/i;

/**
 * Runs the read (and clear) commands of `MesaPresence` and `MesaBacklog`: each bounded in time and
 * failing with a {@link MesaRedisError} that names the key, the problem and the fix. Also the
 * de-duplicating SSCAN/HSCAN iterators. One per service instance: it keeps what it learnt of the
 * server (whether HSCAN takes NOVALUES).
 */
export class MesaRedisReader {
  private readonly logger = new Logger('MesaModule');
  private hscanNoValues: boolean | undefined;

  constructor(
    /** The client commands go to. */
    readonly client: Redis,
    /** Where it goes, without secrets, for error messages. */
    private readonly target: string,
    /** Bound on each command, in milliseconds. */
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs `command` (about `key`, which holds a `kind`) within the time bound.
   * @throws MesaRedisError for WRONGTYPE (naming the key), a timeout, or any other failure.
   */
  async run<T>(what: string, key: string, kind: MesaKeyKind, command: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(command(), this.timeoutMs);
    } catch (error) {
      throw this.failure(error, what, key, kind);
    }
  }

  /** The {@link MesaRedisError} for a failed command (a Redis error reply, a timeout, a lost connection). */
  failure(error: unknown, what: string, key: string, kind: MesaKeyKind): MesaRedisError {
    const message = String((error as Error)?.message ?? error).split('\n')[0];
    if (message.startsWith('WRONGTYPE')) {
      return new MesaRedisError(
        `Redis key '${key}' is not ${KIND_LABEL[kind]} (WRONGTYPE), so ${what} failed. Another application uses that name: ` +
          'give the Mesa servers and MesaModule another namespace, or delete that key if nothing needs it.',
        { cause: error },
      );
    }
    if (error instanceof TimeoutError) {
      return new MesaRedisError(
        `Redis at ${this.target} did not answer ${what} within ${this.timeoutMs} ms (frozen or unreachable). Retry later, or raise dispatchTimeout.`,
        { cause: error },
      );
    }
    return new MesaRedisError(`Redis at ${this.target} failed ${what}: ${message}`, { cause: error });
  }

  /**
   * Every member of the SET at `key`, each once: SSCAN with `count` as the hint per round trip, never
   * SMEMBERS. Members present for the whole iteration are yielded; ones added or removed meanwhile may
   * or may not be. Remembers what it yielded (memory grows with the number of members) to drop the
   * repeats SSCAN may return while Redis resizes the set.
   */
  setMembers(key: string, count: number, what: string): AsyncGenerator<string, void, undefined> {
    return this.scanOnce(what, key, 'set', (cursor) => this.client.sscan(key, cursor, 'COUNT', count));
  }

  /**
   * Every field of the HASH at `key`, each once (see {@link setMembers}): HSCAN NOVALUES where Redis
   * has it (7.4+), else HSCAN with the values read as bytes and dropped.
   */
  hashFields(key: string, count: number, what: string): AsyncGenerator<string, void, undefined> {
    return this.scanOnce(what, key, 'hash', (cursor) => this.hscanFields(key, cursor, count));
  }

  /** Runs a SCAN-family command to the end, yielding each item once (SCAN may repeat items while Redis resizes). */
  private async *scanOnce(
    what: string,
    key: string,
    kind: MesaKeyKind,
    step: (cursor: string) => Promise<[string, string[]]>,
  ): AsyncGenerator<string, void, undefined> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, items] = await this.run(what, key, kind, () => step(cursor));
      cursor = next;
      for (const item of items) {
        if (seen.has(item)) continue;
        seen.add(item);
        yield item;
      }
    } while (cursor !== '0');
  }

  private async hscanFields(key: string, cursor: string, count: number): Promise<[string, string[]]> {
    if (this.hscanNoValues !== false) {
      try {
        const reply = await this.client.hscan(key, cursor, 'COUNT', count, 'NOVALUES');
        this.hscanNoValues = true;
        return reply;
      } catch (error) {
        if (this.hscanNoValues === true || !UNSUPPORTED.test(String((error as Error)?.message))) throw error;
        this.hscanNoValues = false;
        this.logger.log(
          `Redis at ${this.target} has no HSCAN NOVALUES (Redis < 7.4): listing users with stored messages reads their values too.`,
        );
      }
    }
    const [next, flat] = await this.client.hscanBuffer(key, cursor, 'COUNT', count);
    const fields: string[] = [];
    for (let index = 0; index < flat.length; index += 2) fields.push(flat[index].toString());
    return [next.toString(), fields];
  }
}

/** Whether a Redis error means the command (or option) is not available on that server. */
export function isUnsupported(error: unknown): boolean {
  return UNSUPPORTED.test(String((error as Error)?.message ?? error));
}
