import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MESA_REDIS_CONNECTION, MesaRedisConnection, mesaRedisNames, type MesaRedisNames } from 'nestjs-mesa';
import { SampleConfig } from '../config/sample-config.js';
import type { MemberView, RoomView } from './chat.types.js';
import type { Room } from './rooms.service.js';

/**
 * Who is online, as the Mesa servers record it: the `connected_clients` set they keep in Redis
 * (read through the connection `MesaModule` opened, so the app needs no Redis client of its own).
 */
@Injectable()
export class PresenceService implements OnModuleInit {
  private readonly names: MesaRedisNames;

  constructor(
    @Inject(MESA_REDIS_CONNECTION) private readonly redis: MesaRedisConnection,
    config: SampleConfig,
  ) {
    this.names = mesaRedisNames(config.namespace);
  }

  /**
   * Starts the sample's Mesa namespace empty. Rooms live in this process's memory, so a previous
   * run's online ids (left behind by a crash) would make the dispatcher publish to nobody instead of
   * storing for redelivery, and its stored messages would belong to rooms that no longer exist.
   */
  async onModuleInit(): Promise<void> {
    await this.redis.client.del(this.names.connectedClients, this.names.undeliveredMessages);
  }

  /** The ids that have an authenticated socket on some Mesa replica. */
  async onlineIds(): Promise<Set<string>> {
    return new Set(await this.redis.client.smembers(this.names.connectedClients));
  }

  /** How many messages wait in Redis for `userId` (redelivered, with sequence numbers, when they connect). */
  async pendingFor(userId: string): Promise<number> {
    const stored = await this.redis.client.hget(this.names.undeliveredMessages, userId);
    return stored ? (JSON.parse(stored) as unknown[]).length : 0;
  }

  /** A room as the page shows it, with each member's online state. */
  async view(room: Room, online?: Set<string>): Promise<RoomView> {
    const onlineNow = online ?? (await this.onlineIds());
    const members: MemberView[] = [...room.members.values()].map((user) => ({ ...user, online: onlineNow.has(user.id) }));
    return { id: room.id, name: room.name, topic: room.topic, members };
  }
}
