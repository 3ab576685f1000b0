import { signSessionToken, verifySessionToken } from './session-token.js';

const SECRET = 'unit-test-secret-0123456789';
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('session tokens', () => {
  const { token, claims } = signSessionToken({ sub: 'ada', name: 'Ada', rep: 1 }, SECRET, 3600, NOW);

  it('round-trips the claims of a token signed with the same secret', () => {
    expect(claims).toEqual({ sub: 'ada', name: 'Ada', rep: 1, iat: NOW / 1000, exp: NOW / 1000 + 3600 });
    expect(token).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);
    expect(verifySessionToken(token, SECRET, NOW + 1000)).toEqual({ ok: true, claims });
  });

  it('refuses a token signed with another secret', () => {
    const forged = signSessionToken({ sub: 'ada', name: 'Ada', rep: 1 }, 'another-secret-0123456789', 3600, NOW).token;
    expect(verifySessionToken(forged, SECRET, NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses claims changed after signing (someone else’s id under the original signature)', () => {
    const [version, , mac] = token.split('.');
    const bob = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');
    expect(verifySessionToken(`${version}.${bob}.${mac}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses an expired token', () => {
    expect(verifySessionToken(token, SECRET, NOW + 3600 * 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    [undefined, 'no token'],
    [42, 'no token'],
    ['x'.repeat(3000), 'no token'],
    ['v1.abc', 'malformed token'],
    ['v2.abc.def', 'malformed token'],
  ])('refuses %p', (value, reason) => {
    expect(verifySessionToken(value, SECRET, NOW)).toEqual({ ok: false, reason });
  });

  it('refuses a correctly signed token whose claims are not a user id (a signing bug cannot become an identity)', () => {
    const weird = signSessionToken({ sub: '*', name: 'everyone', rep: 0 }, SECRET, 3600, NOW).token;
    expect(verifySessionToken(weird, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed claims' });
  });
});
