import { Injectable } from '@nestjs/common';
import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { MesaRedisConnection } from './redis-connection.js';
import { SharedMesaRedisConnection } from './shared-redis-connection.js';

/** Listeners one more user of a shared client adds per event (the publisher's `ready` and `close`). */
const LISTENERS_PER_USER = 2;

interface SharedEntry {
  readonly opening: Promise<MesaRedisConnection>;
  users: number;
}

/**
 * The `MesaModule` registrations of one application: the names in use (a name registered twice is refused)
 * and the connections they share. Registrations whose `url` is the same string (and that do not say
 * `sharedConnection: false`) use one ioredis connection, opened by the first and closed when the last one
 * shuts down. One instance per application (Nest creates `MesaCoreModule` once per container), so two
 * applications in one process never share.
 */
@Injectable()
export class MesaConnectionRegistry {
  private readonly shared = new Map<string, SharedEntry>();
  private readonly names = new Set<string>();

  /**
   * Records that a registration called `name` is being built.
   * @throws MesaConfigurationError when another registration of the application has that name.
   */
  claim(name: string): void {
    if (this.names.has(name)) {
      throw new MesaConfigurationError(
        `MesaModule: the name '${name}' is registered twice (two MesaModule.forRoot/forRootAsync calls with name '${name}' ` +
          'and different options). Give each registration its own name.',
      );
    }
    this.names.add(name);
  }

  /**
   * The connection a registration dispatches through: its own, or a use of the one shared by every
   * registration with the same `url`.
   * @throws MesaConnectionError as `MesaRedisConnection.open` does (every user of a failed shared opening sees it).
   */
  async open(resolved: ResolvedMesaOptions): Promise<MesaRedisConnection> {
    const key = sharingKey(resolved.given);
    if (key === undefined) return MesaRedisConnection.open(resolved);
    let entry = this.shared.get(key);
    if (!entry) {
      const opening = MesaRedisConnection.open(resolved);
      const created: SharedEntry = { opening, users: 0 };
      opening.catch(() => this.shared.get(key) === created && this.shared.delete(key));
      this.shared.set(key, created);
      entry = created;
    }
    entry.users++;
    let connection: MesaRedisConnection;
    try {
      connection = await entry.opening;
    } catch (error) {
      entry.users--;
      throw error;
    }
    const limit = connection.client.getMaxListeners();
    if (entry.users > 1 && limit > 0) connection.client.setMaxListeners(limit + LISTENERS_PER_USER);
    const used = entry;
    return new SharedMesaRedisConnection(connection, () => this.release(key, used, connection));
  }

  private async release(key: string, entry: SharedEntry, connection: MesaRedisConnection): Promise<void> {
    entry.users--;
    if (entry.users > 0) return;
    if (this.shared.get(key) === entry) this.shared.delete(key);
    await connection.close();
  }
}

/** The text registrations share a connection by: their URL (`url`, or `redis` given as a URL), unless they opt out. */
function sharingKey(options: MesaModuleOptions): string | undefined {
  if (options.sharedConnection === false) return undefined;
  if (typeof options.url === 'string') return options.url;
  return typeof options.redis === 'string' ? options.redis : undefined;
}
