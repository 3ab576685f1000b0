import type { ChainableCommander, Redis } from 'ioredis';

/** One EXEC's replies, as ioredis gives them: `[error, value]` per queued command. */
export type TransactionResults = Array<[Error | null, unknown]>;

/** What one attempt of a {@link watchedTransaction} prepared: the MULTI to run, and what its replies mean. */
export interface PreparedTransaction<T> {
  transaction: ChainableCommander;
  outcome(results: TransactionResults): T;
}

/**
 * Optimistic locking, the one way the module writes what it read without a script: WATCHes `keys`, lets `prepare`
 * read them (and anything else) and queue a MULTI, then EXECs it; when a watched key changed in between (EXEC
 * answers null, nothing ran) it starts over, at most `attempts` times. `prepare` answering undefined means there is
 * nothing to write (UNWATCH, resolves undefined); a failure while preparing UNWATCHes and rejects with it, so no
 * WATCH is left on the connection. The connection must not run another transaction meanwhile (WATCH is per
 * connection): callers that share one serialize on it.
 * @throws the error `conflict(attempts)` builds, after `attempts` conflicts in a row (nothing was written).
 */
export async function watchedTransaction<T>(
  client: Redis,
  keys: readonly string[],
  prepare: () => Promise<PreparedTransaction<T> | undefined>,
  attempts: number,
  conflict: (attempts: number) => Error,
): Promise<T | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await client.watch(...keys);
    let prepared: PreparedTransaction<T> | undefined;
    try {
      prepared = await prepare();
    } catch (error) {
      await client.unwatch().catch(() => undefined);
      throw error;
    }
    if (prepared === undefined) {
      await client.unwatch();
      return undefined;
    }
    const results = await prepared.transaction.exec();
    if (results !== null) return prepared.outcome(results);
  }
  throw conflict(attempts);
}
