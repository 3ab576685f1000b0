import { BadRequestException, Body, Controller, Get, Post, UseGuards } from '@nestjs/common';
import { SampleConfig } from '../config/sample-config.js';
import { ChatService } from '../chat/chat.service.js';
import type { SessionUser } from '../chat/chat.types.js';
import { PresenceService } from '../chat/presence.service.js';
import { LOBBY_ROOM } from '../chat/rooms.service.js';
import { CurrentSession, CurrentUser, SessionGuard } from './session.guard.js';
import { type SessionClaims, signSessionToken, USER_ID_PATTERN } from './session-token.js';

/** Where a page opens its Mesa socket: a port of the host it was served from. */
export interface MesaEndpoint {
  /** 1-based replica number, for people. */
  replica: number;
  replicas: number;
  port: number;
}

/** The answer to a sign-in. */
export interface SessionResponse {
  user: SessionUser;
  token: string;
  expiresAt: string;
  mesa: MesaEndpoint;
  /** Messages stored for this user while they were offline; Mesa redelivers them on authentication. */
  pending: number;
}

/**
 * Sign-in by name (no password: it is a demo of delivery, not of accounts). The token it issues is
 * HMAC-signed; the API and the Mesa servers accept nothing else, so nobody can open a socket as
 * someone else without the server's secret.
 */
@Controller('api')
export class AuthController {
  private nextReplica = 0;

  constructor(
    private readonly config: SampleConfig,
    private readonly chat: ChatService,
    private readonly presence: PresenceService,
  ) {}

  /**
   * Signs in as `name` (joining #general) and sends the user to the next Mesa replica in turn. A user new
   * to this run starts without what a previous run stored for them (`PresenceService.arrive`).
   */
  @Post('session')
  async signIn(@Body() body: { name?: unknown }): Promise<SessionResponse> {
    const name = typeof body?.name === 'string' ? body.name.trim().replace(/\s+/g, ' ') : '';
    const id = name.toLowerCase().replace(/ /g, '-');
    if (!USER_ID_PATTERN.test(id)) {
      throw new BadRequestException('Pick a name of 1 to 24 letters, digits, spaces, - or _.');
    }
    const rep = this.nextReplica++ % this.config.mesaPorts.length;
    const user: SessionUser = { id, name };
    const { token, claims } = signSessionToken({ sub: id, name, rep }, this.config.secret, this.config.sessionTtlSeconds);
    await this.presence.arrive(id);
    await this.chat.join(LOBBY_ROOM, user);
    return { user, token, ...this.describe(claims), pending: await this.presence.pendingFor(id) };
  }

  /** The current session (the page checks a stored token with it). */
  @Get('session')
  @UseGuards(SessionGuard)
  async current(@CurrentUser() user: SessionUser, @CurrentSession() claims: SessionClaims): Promise<Omit<SessionResponse, 'token'>> {
    return { user, ...this.describe(claims), pending: await this.presence.pendingFor(user.id) };
  }

  private describe(claims: SessionClaims): { expiresAt: string; mesa: MesaEndpoint } {
    const replicas = this.config.mesaPorts.length;
    const index = claims.rep % replicas;
    return {
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      mesa: { replica: index + 1, replicas, port: this.config.mesaPorts[index] },
    };
  }
}
