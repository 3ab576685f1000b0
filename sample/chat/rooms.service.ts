import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import type { SessionUser } from './chat.types.js';

/** A room kept in memory: members stay members while offline, which is what makes redelivery matter. */
export interface Room {
  id: string;
  name: string;
  topic: string;
  /** Member id → user, in joining order. */
  members: Map<string, SessionUser>;
}

/** The rooms every run starts with; everyone joins `general` at sign-in. */
export const DEFAULT_ROOMS: ReadonlyArray<Omit<Room, 'members'>> = [
  { id: 'general', name: 'general', topic: 'Say hello. Everyone who signs in is here.' },
  { id: 'random', name: 'random', topic: 'Anything goes.' },
  { id: 'mesa', name: 'mesa', topic: 'Sockets, Redis and fan-out across replicas.' },
];

/** The room everyone is put in at sign-in. */
export const LOBBY_ROOM = 'general';

/**
 * Rooms and their members, in memory (a real app would use its database). Plain data only: the
 * realtime side lives in `ChatService` and `ActivityController`.
 */
@Injectable()
export class RoomsService {
  private readonly rooms = new Map<string, Room>();

  constructor() {
    for (const room of DEFAULT_ROOMS) this.rooms.set(room.id, { ...room, members: new Map() });
  }

  /** Every room, in a stable order. */
  list(): Room[] {
    return [...this.rooms.values()];
  }

  /** @throws NotFoundException for an unknown room. */
  get(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new NotFoundException(`There is no room "${roomId}".`);
    return room;
  }

  /** @throws ForbiddenException unless `userId` is a member of the room. */
  requireMember(roomId: string, userId: string): Room {
    const room = this.get(roomId);
    if (!room.members.has(userId)) throw new ForbiddenException(`Join #${room.name} first.`);
    return room;
  }

  /** Adds (or renames) a member; joining twice is harmless. */
  join(roomId: string, user: SessionUser): Room {
    const room = this.get(roomId);
    room.members.set(user.id, { id: user.id, name: user.name });
    return room;
  }

  /** Removes a member; returns whether they were one. */
  leave(roomId: string, userId: string): boolean {
    return this.get(roomId).members.delete(userId);
  }

  /** Member ids of a room. */
  memberIds(roomId: string): string[] {
    return [...this.get(roomId).members.keys()];
  }

  /** Everyone who shares at least one room with `userId` (not `userId` itself). */
  roommatesOf(userId: string): string[] {
    const ids = new Set<string>();
    for (const room of this.rooms.values()) {
      if (!room.members.has(userId)) continue;
      for (const id of room.members.keys()) if (id !== userId) ids.add(id);
    }
    return [...ids];
  }
}
