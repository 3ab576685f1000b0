import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { SampleConfig } from '../config/sample-config.js';
import type { SessionUser } from '../chat/chat.types.js';
import { type SessionClaims, verifySessionToken } from './session-token.js';

/** The request, once {@link SessionGuard} has let it through. */
export interface SessionRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: SessionUser;
  session?: SessionClaims;
}

/**
 * Lets a request through only with `Authorization: Bearer <token>` carrying a valid session token
 * (the same token the Mesa servers check), and puts the user on the request.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly config: SampleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SessionRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const check = verifySessionToken(token, this.config.secret);
    if (!check.ok) throw new UnauthorizedException(`Sign in again (${check.reason}).`);
    request.user = { id: check.claims.sub, name: check.claims.name };
    request.session = check.claims;
    return true;
  }
}

/** The signed-in user of a route guarded by {@link SessionGuard}. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): SessionUser => {
  return context.switchToHttp().getRequest<SessionRequest>().user!;
});

/** The session claims of a route guarded by {@link SessionGuard} (replica, expiry). */
export const CurrentSession = createParamDecorator((_: unknown, context: ExecutionContext): SessionClaims => {
  return context.switchToHttp().getRequest<SessionRequest>().session!;
});
