import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CurrentUser, SessionGuard } from '../auth/session.guard.js';
import { ChatService } from './chat.service.js';
import type { ChatMessage, RoomView, SessionUser } from './chat.types.js';
import { PresenceService } from './presence.service.js';
import { RoomsService } from './rooms.service.js';

/** Rooms and messages: `GET /api/rooms`, join, leave and post. Every route needs a session token. */
@Controller('api/rooms')
@UseGuards(SessionGuard)
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    private readonly rooms: RoomsService,
    private readonly presence: PresenceService,
  ) {}

  /** All rooms with their members and each one's presence. */
  @Get()
  async list(): Promise<RoomView[]> {
    const snapshot = await this.presence.snapshot();
    return Promise.all(this.rooms.list().map((room) => this.presence.view(room, snapshot)));
  }

  /** Joins a room (the members are told live). */
  @Post(':room/join')
  @HttpCode(200)
  async join(@Param('room') room: string, @CurrentUser() user: SessionUser): Promise<RoomView> {
    return (await this.chat.join(room, user)).room;
  }

  /** Leaves a room (the members are told live). */
  @Post(':room/leave')
  @HttpCode(200)
  async leave(@Param('room') room: string, @CurrentUser() user: SessionUser): Promise<RoomView> {
    this.rooms.requireMember(room, user.id);
    return (await this.chat.leave(room, user.id)).room;
  }

  /**
   * Posts a message. The response comes once `@Dispatch` has handed `NEW_MESSAGE` to Redis; the
   * author's page shows the message from it, everyone else from their Mesa socket.
   */
  @Post(':room/messages')
  async post(@Param('room') room: string, @Body() body: { text?: unknown }, @CurrentUser() user: SessionUser): Promise<ChatMessage> {
    return (await this.chat.post(room, user, body?.text)).message;
  }
}
