import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a session token says. The Nest API signs it at sign-in; the Mesa servers check it before they
 * let a socket authenticate as `sub`.
 */
export interface SessionClaims {
  /** The user id the socket will be known by in Mesa (recipients are these ids). */
  sub: string;
  /** Display name. */
  name: string;
  /** Index of the Mesa replica the user was sent to. */
  rep: number;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

/** The outcome of {@link verifySessionToken}: the claims, or why the token is refused. */
export type TokenCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: string };

const VERSION = 'v1';

/** User ids are lowercase slugs: what `recipients` carries, safe in URLs and Redis names. */
export const USER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,23}$/;

/**
 * Signs `claims` with HMAC-SHA256: `v1.<base64url JSON>.<base64url MAC>`.
 * @param ttlSeconds lifetime from `now`.
 */
export function signSessionToken(
  claims: Pick<SessionClaims, 'sub' | 'name' | 'rep'>,
  secret: string,
  ttlSeconds: number,
  now = Date.now(),
): { token: string; claims: SessionClaims } {
  const iat = Math.floor(now / 1000);
  const full: SessionClaims = { sub: claims.sub, name: claims.name, rep: claims.rep, iat, exp: iat + ttlSeconds };
  const body = `${VERSION}.${Buffer.from(JSON.stringify(full)).toString('base64url')}`;
  return { token: `${body}.${mac(body, secret)}`, claims: full };
}

/**
 * Checks a token's signature (constant time), shape and expiry. Never throws: anything that is not a
 * valid, unexpired token signed with `secret` gives `{ ok: false, reason }`.
 */
export function verifySessionToken(token: unknown, secret: string, now = Date.now()): TokenCheck {
  if (typeof token !== 'string' || token.length > 2048) return { ok: false, reason: 'no token' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed token' };
  const expected = Buffer.from(mac(`${parts[0]}.${parts[1]}`, secret));
  const given = Buffer.from(parts[2]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  let claims: SessionClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed claims' };
  }
  if (typeof claims?.sub !== 'string' || !USER_ID_PATTERN.test(claims.sub) || typeof claims.name !== 'string') {
    return { ok: false, reason: 'malformed claims' };
  }
  if (!Number.isInteger(claims.exp) || claims.exp <= Math.floor(now / 1000)) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
