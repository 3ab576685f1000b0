import { MESA_REDIS_NAMES } from '../mesa.constants.js';

/** The Redis names a Mesa server with the given namespace uses, as Mesa builds them (`prefix_namespace`). */
export interface MesaRedisNames {
  /** Pub/sub channel every Mesa server subscribes to. */
  channel: string;
  /** SET of the ids of authenticated users that are online. */
  connectedClients: string;
  /** HASH: user id → JSON array of messages stored for redelivery. */
  undeliveredMessages: string;
  /** Counter of open sockets (authenticated or not) that Mesa servers INCR and DECR. */
  connectedClientsCount: string;
  /** Channel of client events for the portal (`portal[_ns]`). */
  portalEvents: string;
  /** SET and channel of the portal pool (`available_portals_pool[_ns]`). */
  portalPool: string;
  /** ZSET of portal heartbeat deadlines (`portal_heartbeats[_ns]`, nestjs-mesa's own). */
  portalHeartbeats: string;
  /** Lock of the sweep of expired stored messages (`nestjs_mesa_sweep_lock[_ns]`, nestjs-mesa's own). */
  sweepLock: string;
  /** Prefix of a publisher's hold key (`nestjs_mesa_stores_held[_ns]:<id>`, nestjs-mesa's own): see the batch script. */
  storesHeld: string;
  /** Prefix of the idempotency keys (`nestjs_mesa_idempotency[_ns]:<registration>:<key>`, nestjs-mesa's own). */
  idempotencyKeys: string;
}

/** Builds {@link MesaRedisNames} for a namespace (none: the bare prefixes). */
export function mesaRedisNames(namespace?: string): MesaRedisNames {
  const name = (prefix: string) => (namespace ? `${prefix}_${namespace}` : prefix);
  return {
    channel: name(MESA_REDIS_NAMES.channel),
    connectedClients: name(MESA_REDIS_NAMES.connectedClients),
    undeliveredMessages: name(MESA_REDIS_NAMES.undeliveredMessages),
    connectedClientsCount: name(MESA_REDIS_NAMES.connectedClientsCount),
    portalEvents: name(MESA_REDIS_NAMES.portalEvents),
    portalPool: name(MESA_REDIS_NAMES.portalPool),
    portalHeartbeats: name(MESA_REDIS_NAMES.portalHeartbeats),
    sweepLock: name(MESA_REDIS_NAMES.sweepLock),
    storesHeld: name(MESA_REDIS_NAMES.storesHeld),
    idempotencyKeys: name(MESA_REDIS_NAMES.idempotencyKeys),
  };
}
