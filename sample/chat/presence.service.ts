import { Injectable } from '@nestjs/common';
import { MesaBacklog, MesaPresence } from 'nestjs-mesa';
import type { MemberView, PresenceState, RoomView } from './chat.types.js';
import { PresenceBook } from './presence-book.js';
import { type Room, RoomsService } from './rooms.service.js';

/** Members' states, and the presence change number they were read at. */
export interface PresenceSnapshot {
  states: Map<string, PresenceState>;
  version: number;
}

/**
 * Who is online and what waits for whom. Presence is the {@link PresenceBook} (sockets counted from Mesa's
 * Portal events), reconciled with Mesa's `connected_clients` read through nestjs-mesa's `MesaPresence`
 * where that set is truthful: an id in it has an authenticated socket open (an event that never reached the
 * portal still shows), while an id missing from it proves nothing (Mesa removes it when any one of the
 * user's sockets closes). Stored messages are read through `MesaBacklog`. The app touches no Redis key itself.
 */
@Injectable()
export class PresenceService {
  constructor(
    private readonly presence: MesaPresence,
    private readonly backlog: MesaBacklog,
    private readonly rooms: RoomsService,
    private readonly book: PresenceBook,
  ) {}

  /** The states of `ids` (default: the members of every room), with one Redis round trip. */
  async snapshot(ids?: readonly string[]): Promise<PresenceSnapshot> {
    const wanted = ids ?? [...new Set(this.rooms.list().flatMap((room) => [...room.members.keys()]))];
    const inConnectedClients = await this.presence.online(wanted);
    const states = new Map(wanted.map((id) => [id, this.book.state(id, inConnectedClients.has(id))]));
    return { states, version: this.book.version };
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

  /** A room as the page shows it, with each member's state. */
  async view(room: Room, snapshot?: PresenceSnapshot): Promise<RoomView> {
    const { states, version } = snapshot ?? (await this.snapshot([...room.members.keys()]));
    const members: MemberView[] = [...room.members.values()].map((user) => {
      const status = states.get(user.id) ?? 'offline';
      return { ...user, online: status !== 'offline', status };
    });
    return { id: room.id, name: room.name, topic: room.topic, members, presenceVersion: version };
  }
}
