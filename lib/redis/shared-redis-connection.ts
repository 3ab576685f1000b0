import { MesaRedisConnection } from './redis-connection.js';

/**
 * One `MesaModule` registration's use of a connection (which several registrations may share, see
 * `MesaConnectionRegistry`): the same client, target and server version; {@link close} gives this use back (the
 * connection itself is closed when its last user gives it back), and {@link exclusive} queues on the
 * connection's one chain.
 */
export class SharedMesaRedisConnection extends MesaRedisConnection {
  private released?: Promise<void>;

  /**
   * @param shared the connection as opened once.
   * @param release called once, by the first {@link close}: gives this use back.
   */
  constructor(
    private readonly shared: MesaRedisConnection,
    private readonly release: () => Promise<void>,
  ) {
    super(shared.client, shared.owned, shared.target, shared.serverMajorVersion);
  }

  /** Gives this use back; the last one closes the connection (if the module opened it). Idempotent. */
  override close(): Promise<void> {
    this.released ??= this.release();
    return this.released;
  }

  /** Queues `task` on the shared connection's chain, with every other user's. */
  override exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.shared.exclusive(task);
  }
}
