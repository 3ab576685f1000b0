import { Injectable } from '@nestjs/common';
import { MesaBacklog, MesaPresence } from 'nestjs-mesa';
import type { MemberView, RoomView } from './chat.types.js';
import { type Room, RoomsService } from './rooms.service.js';

/**
 * Who is online and what waits for whom, as the Mesa servers record it in Redis, read through
 * nestjs-mesa's `MesaPresence` and `MesaBacklog` (which know the namespace; the app touches no Redis).
 */
@Injectable()
export class PresenceService {
  constructor(
    private readonly presence: MesaPresence,
    private readonly backlog: MesaBacklog,
    private readonly rooms: RoomsService,
  ) {}

  /** The members of any room who have an authenticated socket on some Mesa replica (one Redis round trip). */
  async onlineIds(): Promise<Set<string>> {
    const members = new Set<string>();
    for (const room of this.rooms.list()) for (const id of room.members.keys()) members.add(id);
    return this.presence.online([...members]);
  }

  /** How many messages wait in Redis for `userId` (redelivered, with sequence numbers, when they connect). */
  async pendingFor(userId: string): Promise<number> {
    return this.backlog.count(userId);
  }

  /**
   * Called at sign-in, before the user joins the lobby. Rooms and memberships live in this process's
   * memory, so a user who is in no room is new to this run: what a previous run stored for them
   * belongs to conversations this run does not have, and is dropped (their own stored messages only;
   * the sample deletes no Redis key). Resolves with how many were dropped.
   */
  async arrive(userId: string): Promise<number> {
    if (this.rooms.list().some((room) => room.members.has(userId))) return 0;
    return this.backlog.clear(userId);
  }

  /** A room as the page shows it, with each member's online state. */
  async view(room: Room, online?: Set<string>): Promise<RoomView> {
    const onlineNow = online ?? (await this.presence.online([...room.members.keys()]));
    const members: MemberView[] = [...room.members.values()].map((user) => ({ ...user, online: onlineNow.has(user.id) }));
    return { id: room.id, name: room.name, topic: room.topic, members };
  }
}
