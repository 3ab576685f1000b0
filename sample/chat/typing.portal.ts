import { Injectable } from '@nestjs/common';
import { Dispatch, OnMesaMessage, type MesaClientMessage } from 'nestjs-mesa';
import type { SessionUser } from './chat.types.js';
import { RoomsService } from './rooms.service.js';

/** What a `TYPING` frame from a page turns into: who types where, and the room's members then. */
export interface TypingNotice {
  room: string;
  user: SessionUser;
  members: string[];
}

/**
 * Client frames that reach the API through Mesa's Portal (the Mesa replicas run with
 * `portal.enabled`): a page sends `{"op":0,"t":"TYPING","d":{"room":"general"}}` over its Mesa
 * socket, Mesa publishes it to this portal, and `TYPING` goes to the room's other members, live
 * only (`sync: false`). Who typed is the socket's authenticated id, never something the page claims.
 */
@Injectable()
export class TypingPortal {
  constructor(private readonly rooms: RoomsService) {}

  /** @throws Error (logged by the portal, nothing sent) for an unauthenticated socket, a bad room or a non-member. */
  @OnMesaMessage('TYPING')
  @Dispatch('TYPING', {
    recipients: (typing: TypingNotice) => typing.members,
    excluding: (typing: TypingNotice) => [typing.user.id],
    data: (typing: TypingNotice) => ({ room: typing.room, user: typing.user }),
    sync: false,
  })
  typing(frame: MesaClientMessage): TypingNotice {
    const userId = frame.clientId;
    if (userId === undefined) throw new Error('TYPING from a socket that has not authenticated.');
    const roomId = (frame.data as { room?: unknown } | null)?.room;
    if (typeof roomId !== 'string') throw new Error('TYPING needs data { room: string }.');
    const room = this.rooms.requireMember(roomId, userId);
    return { room: room.id, user: room.members.get(userId)!, members: this.rooms.memberIds(room.id) };
  }
}
