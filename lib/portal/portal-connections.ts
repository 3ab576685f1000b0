import type { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { MesaConnectionError } from '../errors/mesa.errors.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import { type MesaRedisConnection, withTimeout } from '../redis/redis-connection.js';
import { LogThrottle } from '../logging/log-throttle.js';
import { redactSecrets } from '../redis/redis-target.js';

/**
 * Opens one of the portal's own connections, a `duplicate()` of the module's (same server, credentials
 * and TLS): the subscriber (pub/sub mode) and the command connection (WATCH is per connection). The
 * subscriber reconnects at once when it drops (then as the module's connection would), and does not
 * subscribe again by itself: {@link PortalSubscription} does, to know when events flow again.
 * @throws MesaConnectionError when it is not ready within `timeout` ms (where, never the password).
 */
export async function openPortalConnection(
  connection: MesaRedisConnection,
  role: 'subscriber' | 'commands',
  timeout: number,
  options: MesaModuleOptions,
  logger: Logger,
): Promise<Redis> {
  const retryStrategy = connection.client.options.retryStrategy;
  const subscriberOptions: RedisOptions = {
    autoResubscribe: false,
    retryStrategy: (times: number) => {
      const delay = retryStrategy?.(times);
      return times === 1 && typeof delay === 'number' ? 0 : delay;
    },
  };
  const client = connection.client.duplicate({
    lazyConnect: true,
    connectionName: `nestjs-mesa:portal-${role}`,
    ...(role === 'subscriber' ? subscriberOptions : {}),
  });
  let lastError: string | undefined;
  const errorLog = new LogThrottle(logger, { limit: 1 });
  client.on('error', (error: Error) => {
    lastError = redactSecrets(error.message, options);
    errorLog.error(lastError, `Portal ${role} connection to ${connection.target}: ${lastError}`);
  });
  try {
    await withTimeout(client.connect(), timeout);
  } catch (error) {
    client.disconnect();
    const reason = redactSecrets(lastError ?? (error as Error)?.message ?? String(error), options);
    throw new MesaConnectionError(
      `Portal: could not open its ${role} connection to Redis at ${connection.target} within ${timeout} ms (${reason}). ` +
        'Check that Redis accepts more connections (maxclients), or raise connectTimeout.',
    );
  }
  return client;
}
