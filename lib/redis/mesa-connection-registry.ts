import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import { MesaRedisConnection, type ConnectionSettings } from './redis-connection.js';
import { SharedMesaRedisConnection } from './shared-redis-connection.js';

/** Listeners one more user of a shared client adds per event (the publisher's `ready` and `close`). */
const LISTENERS_PER_USER = 2;

/** One connection and the registrations using it. */
interface ConnectionEntry {
  /** The sharing key (the url), or undefined for a connection of one registration only. */
  readonly key: string | undefined;
  readonly opening: Promise<MesaRedisConnection>;
  users: number;
}

/**
 * The `MesaModule` registrations of one application: the names in use (a name registered twice is refused)
 * and the connections they open. Registrations whose `url` is the same string (and that do not say
 * `sharedConnection: false`) use one ioredis connection, opened by the first and closed when the last one
 * shuts down. One instance per application (Nest creates `MesaCoreModule` once per container), so two
 * applications in one process never share.
 *
 * When a registration fails the bootstrap (a name registered twice, Redis unreachable), Nest calls no shutdown
 * hook: the registry then closes every connection it had opened, which would otherwise retry forever.
 */
export class MesaConnectionRegistry {
  private readonly shared = new Map<string, ConnectionEntry>();
  private readonly names = new Set<string>();
  /** Every connection opened and not closed yet. */
  private readonly opened = new Set<MesaRedisConnection>();
  /** Why the application's bootstrap fails: nothing more is opened, and what was is closed. */
  private failure?: Error;

  /**
   * Records that a registration called `name` is being built.
   * @throws MesaConfigurationError when another registration of the application has that name.
   */
  claim(name: string): void {
    if (this.names.has(name)) {
      this.abort(
        new MesaConfigurationError(
          `MesaModule: the name '${name}' is registered twice (two MesaModule.forRoot/forRootAsync calls with name '${name}' ` +
            'and different options). Give each registration its own name.',
        ),
      );
    }
    this.names.add(name);
  }

  /**
   * The connection a registration dispatches through: its own, or a use of the one shared by every
   * registration with the same `url`. Closing what it returns gives that use back.
   * @throws MesaConnectionError as `MesaRedisConnection.open` does (every user of a failed shared opening sees it).
   */
  async open(resolved: ConnectionSettings): Promise<MesaRedisConnection> {
    const key = sharingKey(resolved.given);
    let entry = key === undefined ? undefined : this.shared.get(key);
    if (!entry) {
      entry = { key, opening: this.openTracked(resolved), users: 0 };
      if (key !== undefined) this.shared.set(key, entry);
    }
    entry.users++;
    let connection: MesaRedisConnection;
    try {
      connection = await entry.opening;
    } catch (error) {
      entry.users--;
      if (key !== undefined && this.shared.get(key) === entry) this.shared.delete(key);
      throw error;
    }
    const limit = connection.client.getMaxListeners();
    if (entry.users > 1 && limit > 0) connection.client.setMaxListeners(limit + LISTENERS_PER_USER);
    const used = entry;
    return new SharedMesaRedisConnection(connection, () => this.release(used, connection));
  }

  private async release(entry: ConnectionEntry, connection: MesaRedisConnection): Promise<void> {
    entry.users--;
    if (entry.users > 0) return;
    if (entry.key !== undefined && this.shared.get(entry.key) === entry) this.shared.delete(entry.key);
    this.opened.delete(connection);
    await connection.close();
  }

  private async openTracked(resolved: ConnectionSettings): Promise<MesaRedisConnection> {
    if (this.failure) throw this.failure;
    let connection: MesaRedisConnection;
    try {
      connection = await MesaRedisConnection.open(resolved);
    } catch (error) {
      this.abort(error as Error);
    }
    if (this.failure) {
      await connection.close();
      throw this.failure;
    }
    this.opened.add(connection);
    return connection;
  }

  /** Records why the bootstrap fails, closes every connection opened so far, and throws `error`. */
  private abort(error: Error): never {
    this.failure ??= error;
    const opened = [...this.opened];
    this.opened.clear();
    for (const connection of opened) connection.close().catch(() => undefined);
    throw error;
  }
}

/** The text registrations share a connection by: their URL (`url`, or `redis` given as a URL), unless they opt out. */
function sharingKey(options: MesaModuleOptions): string | undefined {
  if (options.sharedConnection === false) return undefined;
  if (typeof options.url === 'string') return options.url;
  return typeof options.redis === 'string' ? options.redis : undefined;
}
