import { BadRequestException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Dispatch } from 'nestjs-mesa';
import type { ChatMessage, PostedMessage, RoomChange, SessionUser } from './chat.types.js';
import { PresenceService } from './presence.service.js';
import { RoomsService } from './rooms.service.js';

/** Longest message the API accepts, in characters. */
export const MAX_MESSAGE_LENGTH = 1000;

/**
 * The chat's write side. Its methods return data and `@Dispatch` does the realtime part: what a
 * method resolves to is sent to the Mesa servers through Redis before the HTTP response goes out.
 */
@Injectable()
export class ChatService {
  constructor(
    private readonly rooms: RoomsService,
    private readonly presence: PresenceService,
  ) {}

  /**
   * Posts `text` to a room. Every member gets `NEW_MESSAGE` except the author, whose page shows the
   * message from the HTTP response. Members who are offline get it stored (sync) and redelivered, with
   * a sequence number, when their socket authenticates again.
   *
   * @throws ForbiddenException when the author is not a member; BadRequestException for empty or long text.
   */
  @Dispatch<PostedMessage>('NEW_MESSAGE', {
    recipients: (posted) => posted.members,
    excluding: (posted) => [posted.message.author.id],
    data: (posted) => posted.message,
  })
  async post(roomId: string, author: SessionUser, text: unknown): Promise<PostedMessage> {
    const room = this.rooms.requireMember(roomId, author.id);
    const content = typeof text === 'string' ? text.trim() : '';
    if (!content) throw new BadRequestException('Write something first.');
    if (content.length > MAX_MESSAGE_LENGTH) {
      throw new BadRequestException(`Messages are limited to ${MAX_MESSAGE_LENGTH} characters.`);
    }
    const message: ChatMessage = { id: randomUUID(), room: room.id, author, text: content, sentAt: new Date().toISOString() };
    return { message, members: [...room.members.keys()] };
  }

  /**
   * Adds `user` to a room; the other members get `ROOM_UPDATED` (not stored for offline members:
   * they read the room fresh when they come back).
   */
  @Dispatch<RoomChange>('ROOM_UPDATED', {
    recipients: (change) => change.notify,
    excluding: (change) => [change.actor],
    data: (change) => change.room,
    sync: false,
  })
  async join(roomId: string, user: SessionUser): Promise<RoomChange> {
    const room = this.rooms.join(roomId, user);
    return { room: await this.presence.view(room), notify: this.rooms.memberIds(roomId), actor: user.id };
  }

  /** Removes `userId` from a room; the remaining members get `ROOM_UPDATED`. */
  @Dispatch<RoomChange>('ROOM_UPDATED', {
    recipients: (change) => change.notify,
    excluding: (change) => [change.actor],
    data: (change) => change.room,
    sync: false,
  })
  async leave(roomId: string, userId: string): Promise<RoomChange> {
    this.rooms.leave(roomId, userId);
    const room = this.rooms.get(roomId);
    return { room: await this.presence.view(room), notify: this.rooms.memberIds(roomId), actor: userId };
  }
}
