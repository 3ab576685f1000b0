import { BadRequestException, Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { DispatcherService, Message } from 'nestjs-mesa';
import { CurrentUser, SessionGuard } from '../auth/session.guard.js';
import { ChatService } from './chat.service.js';
import type { RoomView, SessionUser } from './chat.types.js';
import { RoomsService } from './rooms.service.js';

/** Data of the `KICKED` message the removed user gets just before their socket is closed. */
export interface KickedNotice {
  room: string;
  by: SessionUser;
}

/**
 * Ephemeral activity, sent with `DispatcherService` directly: typing is `{ sync: false }` (worthless
 * later, so never stored for offline users), and a kick closes the kicked user's sockets on every Mesa
 * replica with `DISCONNECT_CLIENT`. Presence is not reported over HTTP: `PresencePortal` derives it from
 * Mesa's socket events.
 */
@Controller('api')
@UseGuards(SessionGuard)
export class ActivityController {
  constructor(
    private readonly dispatcher: DispatcherService,
    private readonly rooms: RoomsService,
    private readonly chat: ChatService,
  ) {}

  /**
   * `TYPING` to the room's other members, live only, for API clients without a Mesa socket. The page
   * sends its typing over the socket instead, to `TypingPortal` through Mesa's Portal.
   */
  @Post('rooms/:room/typing')
  @HttpCode(204)
  async typing(@Param('room') roomId: string, @CurrentUser() user: SessionUser): Promise<void> {
    const members = this.rooms.memberIds(this.rooms.requireMember(roomId, user.id).id);
    await this.dispatcher.dispatch(new Message(0, { room: roomId, user }, 'TYPING', { sync: false }), members, [user.id]);
  }

  /**
   * Removes a member from a room and closes their sockets: `ROOM_UPDATED` to the room, `KICKED` to
   * them, then `DISCONNECT_CLIENT` (`dispatcher.disconnect`). One Redis connection keeps that order,
   * so the kicked page reads why before its socket closes.
   */
  @Post('rooms/:room/kick')
  @HttpCode(200)
  async kick(@Param('room') roomId: string, @Body() body: { userId?: unknown }, @CurrentUser() user: SessionUser): Promise<RoomView> {
    const room = this.rooms.requireMember(roomId, user.id);
    const target = body?.userId;
    if (typeof target !== 'string' || !room.members.has(target)) throw new BadRequestException('Pick a member of this room.');
    if (target === user.id) throw new BadRequestException('Use "Leave" to leave a room yourself.');
    const change = await this.chat.leave(roomId, target);
    const notice: KickedNotice = { room: roomId, by: user };
    await this.dispatcher.dispatch(new Message(0, notice, 'KICKED', { sync: false }), [target]);
    await this.dispatcher.disconnect([target]);
    return change.room;
  }
}
