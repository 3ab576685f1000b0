import { mesaRedisNames } from 'nestjs-mesa';
import { signSessionToken } from '../../sample/auth/session-token.js';
import { createSampleApp } from '../../sample/create-sample-app.js';
import { freePort } from '../support/free-port.js';
import { callApi, ChatClient } from './support/chat-client.js';
import { buildSample, eventually, MESA_LAUNCHER, startSample, TEST_SECRET, type SampleHarness } from './support/sample-harness.js';

// The sample's API and its Mesa replicas, end to end: real Redis, real Mesa servers in child
// processes, Mesa's Node client as the users.
describe('sample chat: API and Mesa delivery', () => {
  let harness: SampleHarness;
  const names = mesaRedisNames('sample-test');
  const clients: ChatClient[] = [];
  const connect = async (port: number, token: string, options?: { expectRefusal?: boolean }) => {
    const client = await ChatClient.connect(port, token, options);
    clients.push(client);
    return client;
  };
  let inspect: ReturnType<SampleHarness['redis']['client']>;
  const isOnline = async (id: string) => (await inspect.sismember(names.connectedClients, id)) === 1;

  beforeAll(async () => {
    buildSample();
    harness = await startSample({ replicas: 2 });
    inspect = harness.redis.client();
  }, 60_000);
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    inspect?.disconnect();
    await harness?.stop();
  });

  it('signs people in round-robin across the replicas and refuses bad names and missing tokens', async () => {
    const ada = await ChatClient.signIn(harness.url, 'Ada Lovelace');
    const bob = await ChatClient.signIn(harness.url, 'bob');
    expect(ada.user).toEqual({ id: 'ada-lovelace', name: 'Ada Lovelace' });
    expect(new Set([ada.mesa.port, bob.mesa.port])).toEqual(new Set(harness.sample.config.mesaPorts));
    expect((await callApi(harness.url, 'POST', '/api/session', undefined, { name: '<script>' })).status).toBe(400);
    expect((await callApi(harness.url, 'GET', '/api/rooms')).status).toBe(401);
    const forged = signSessionToken({ sub: 'ada-lovelace', name: 'Ada', rep: 0 }, 'not-the-secret-of-the-server', 60).token;
    expect((await callApi(harness.url, 'GET', '/api/rooms', forged)).status).toBe(401);
    const rooms = await callApi(harness.url, 'GET', '/api/rooms', ada.token);
    expect(rooms.body.find((room: { id: string }) => room.id === 'general').members.map((m: { id: string }) => m.id)).toEqual(
      expect.arrayContaining(['ada-lovelace', 'bob']),
    );
  });

  it('delivers a post to the other members on both replicas, never back to its author', async () => {
    const alice = await ChatClient.signIn(harness.url, 'alice');
    const bob = await ChatClient.signIn(harness.url, 'bobby');
    expect(alice.mesa.port).not.toBe(bob.mesa.port); // consecutive sign-ins land on different replicas
    const aliceSocket = await connect(alice.mesa.port, alice.token);
    const bobSocket = await connect(bob.mesa.port, bob.token);

    const posted = await callApi(harness.url, 'POST', '/api/rooms/general/messages', alice.token, { text: '  hello bob  ' });
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ room: 'general', text: 'hello bob', author: { id: 'alice', name: 'alice' } });
    await eventually(() => bobSocket.of('NEW_MESSAGE').length === 1, 'bob to receive the post');
    expect(bobSocket.of('NEW_MESSAGE')[0]).toEqual({ op: 0, t: 'NEW_MESSAGE', d: posted.body, s: undefined });

    // A reply through the same Redis channel is a sentinel: once alice has it, any copy of her own
    // post would have arrived before it.
    await callApi(harness.url, 'POST', '/api/rooms/general/messages', bob.token, { text: 'hi alice' });
    await eventually(() => aliceSocket.of('NEW_MESSAGE').length > 0, 'alice to receive the reply');
    expect(aliceSocket.of('NEW_MESSAGE').map((message) => message.d.text)).toEqual(['hi alice']);
  });

  it('stores posts for an offline member and redelivers them, numbered, when they reconnect', async () => {
    const carol = await ChatClient.signIn(harness.url, 'carol');
    const dave = await ChatClient.signIn(harness.url, 'dave');
    const first = await connect(carol.mesa.port, carol.token);
    first.close();
    await eventually(async () => !(await isOnline('carol')), 'Mesa to mark carol offline');

    for (const text of ['one', 'two']) {
      expect((await callApi(harness.url, 'POST', '/api/rooms/general/messages', dave.token, { text })).status).toBe(201);
    }
    expect((await callApi(harness.url, 'POST', '/api/rooms/general/typing', dave.token)).status).toBe(204); // never stored
    const back = await ChatClient.signIn(harness.url, 'carol');
    expect(back.pending).toBe(2);
    const again = await connect(back.mesa.port, back.token);
    await eventually(() => again.of('NEW_MESSAGE').length === 2, 'the redelivery');
    expect(again.of('NEW_MESSAGE').map((message) => [message.d.text, message.s])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
  });

  it('refuses posts from non-members and sends typing live to roommates only', async () => {
    const erin = await ChatClient.signIn(harness.url, 'erin');
    const frank = await ChatClient.signIn(harness.url, 'frank');
    expect((await callApi(harness.url, 'POST', '/api/rooms/mesa/messages', erin.token, { text: 'hi' })).status).toBe(403);
    expect((await callApi(harness.url, 'POST', '/api/rooms/general/messages', erin.token, { text: '   ' })).status).toBe(400);
    const frankSocket = await connect(frank.mesa.port, frank.token);

    expect((await callApi(harness.url, 'POST', '/api/rooms/general/typing', erin.token)).status).toBe(204);
    await eventually(() => frankSocket.of('TYPING').length > 0, 'frank to see erin typing');
    expect(frankSocket.of('TYPING').map((message) => message.d)).toContainEqual({ room: 'general', user: { id: 'erin', name: 'erin' } });
  });

  it('presence is what Mesa says of the sockets, counted per user: one of two closing leaves the user online', async () => {
    const olga = await ChatClient.signIn(harness.url, 'olga');
    const pete = await ChatClient.signIn(harness.url, 'pete');
    const peteSocket = await connect(pete.mesa.port, pete.token);
    const olgaStatus = async () => {
      const rooms = await callApi(harness.url, 'GET', '/api/rooms', pete.token);
      return rooms.body.find((room: { id: string }) => room.id === 'general').members.find((m: { id: string }) => m.id === 'olga').status;
    };
    const told = () =>
      peteSocket
        .of('PRESENCE')
        .filter((message) => message.d.user.id === 'olga')
        .map((message) => message.d.status);
    expect((await callApi(harness.url, 'POST', '/api/presence', olga.token, { status: 'online' })).status).toBe(404); // no page says it

    // Each step waits for what it changes before the next: the two replicas' events (a socket's authentication on
    // one, a tab's VISIBILITY on the other) reach the API in no set order, and a tab heard before the other socket
    // makes her away, online, then away again (presence-book.spec: "settles whatever order")
    const first = await connect(olga.mesa.port, olga.token);
    await eventually(() => told().length === 1, 'pete to hear olga is online');
    first.send('VISIBILITY', { tab: 'f00dbabe', hidden: true });
    await eventually(() => told().length === 2, 'pete to hear olga is away');
    const second = await connect(pete.mesa.port, olga.token); // her second tab, on the other replica, not hidden yet
    await eventually(() => told().length === 3, 'pete to hear olga is online again');
    second.send('VISIBILITY', { tab: 'cafed00d', hidden: true });
    await eventually(() => told().length === 4, 'pete to hear olga is away again');
    first.close();
    await eventually(async () => !(await isOnline('olga')), 'Mesa to drop olga from connected_clients');
    await eventually(() => second.of('PRESENCE_PROBE').length === 1, 'the open socket to be asked');
    second.send('VISIBILITY', { tab: 'cafed00d', hidden: false });
    await eventually(() => told().length === 5, 'pete to hear olga is back');
    expect(await olgaStatus()).toBe('online'); // while connected_clients says she is gone

    second.close();
    await eventually(() => told().length === 6, 'pete to hear olga is offline');
    expect(told()).toEqual(['online', 'away', 'online', 'away', 'online', 'offline']);
    expect(await olgaStatus()).toBe('offline');
    const versions = peteSocket.of('PRESENCE').map((message) => message.d.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b)); // pushed in the order they happened
  });

  it('a socket that never authenticated, or sends malformed VISIBILITY frames, changes nobody’s presence', async () => {
    const quinn = await ChatClient.signIn(harness.url, 'quinn');
    const quinnSocket = await connect(quinn.mesa.port, quinn.token);
    const stranger = await connect(quinn.mesa.port, 'not-a-token', { expectRefusal: true });
    stranger.send('VISIBILITY', { tab: 'deadbeef', hidden: true });
    for (const data of [{ tab: '<script>', hidden: true }, { tab: 'deadbeef', hidden: 'yes' }, 'x'.repeat(10_000)])
      quinnSocket.send('VISIBILITY', data);
    quinnSocket.send('VISIBILITY', { tab: 'deadbeef', hidden: true }); // a well-formed one, after the bad ones
    await eventually(() => quinnSocket.of('PRESENCE').some((message) => message.d.status === 'away'), 'quinn’s own away');
    // Quinn's own changes only: a roommate's socket closed by the test before (pete's) may still be announced now.
    const own = quinnSocket.of('PRESENCE').filter((message) => message.d.user.id === quinn.user.id);
    expect(own.map((message) => message.d.status)).toEqual(['online', 'away']);
  });

  it('kicks: the member is removed, told why, and their socket is closed by the Mesa server', async () => {
    const grace = await ChatClient.signIn(harness.url, 'grace');
    const heidi = await ChatClient.signIn(harness.url, 'heidi');
    const heidiSocket = await connect(heidi.mesa.port, heidi.token);
    const room = await callApi(harness.url, 'POST', '/api/rooms/general/kick', grace.token, { userId: 'heidi' });
    expect(room.status).toBe(200);
    expect(room.body.members.map((member: { id: string }) => member.id)).not.toContain('heidi');
    await eventually(() => heidiSocket.closeCode !== undefined, 'heidi’s socket to close');
    expect(heidiSocket.closeCode).toBe(1000);
    expect(heidiSocket.of('KICKED').map((message) => message.d)).toEqual([{ room: 'general', by: { id: 'grace', name: 'grace' } }]);
    expect((await callApi(harness.url, 'POST', '/api/rooms/general/kick', grace.token, { userId: 'grace' })).status).toBe(400);
  });

  it('refuses sockets with forged, tampered or expired tokens (nobody listens as someone else)', async () => {
    const ivan = await ChatClient.signIn(harness.url, 'ivan');
    const [head, , mac] = ivan.token.split('.');
    const claims = Buffer.from(JSON.stringify({ sub: 'alice', name: 'alice', rep: 0, iat: 1, exp: 4_102_444_800 })).toString('base64url');
    const tokens = {
      foreignSecret: signSessionToken({ sub: 'alice', name: 'alice', rep: 0 }, 'guessed-secret-guessed-secret', 600).token,
      tampered: `${head}.${claims}.${mac}`,
      expired: signSessionToken({ sub: 'alice', name: 'alice', rep: 0 }, TEST_SECRET, 60, Date.now() - 3_600_000).token,
      garbage: 'not-a-token',
    };
    for (const [kind, token] of Object.entries(tokens)) {
      const socket = await connect(ivan.mesa.port, token, { expectRefusal: true });
      await eventually(() => socket.closeCode !== undefined, `the ${kind} token to be refused`);
      expect([kind, socket.closeCode, socket.authenticated]).toEqual([kind, 1008, false]);
    }
    expect(await isOnline('alice')).toBe(false);
  });

  it('deletes no Redis key at boot; a user new to this run starts without what a previous run stored for them', async () => {
    const boot = mesaRedisNames('sample-boot');
    const redis = inspect;
    await redis.sadd(boot.connectedClients, 'on-another-instance');
    await redis.hset(boot.undeliveredMessages, 'ghost', '[{"op":0,"d":"old","t":"NEW_MESSAGE"}]');
    await redis.hset(boot.undeliveredMessages, 'someone-else', '[{"op":0,"d":"kept","t":"NEW_MESSAGE"}]');
    const second = await createSampleApp({
      ...harness.sample.config.values(),
      port: 0,
      mesaPorts: [await freePort()],
      namespace: 'sample-boot',
      mesaLauncher: MESA_LAUNCHER,
      logger: false,
      mesaLog: () => undefined,
    });
    try {
      expect(await redis.sismember(boot.connectedClients, 'on-another-instance')).toBe(1);
      const ghost = await ChatClient.signIn(second.url, 'ghost');
      expect(ghost.pending).toBe(0);
      expect(await redis.hexists(boot.undeliveredMessages, 'ghost')).toBe(0);
      expect(await redis.hget(boot.undeliveredMessages, 'someone-else')).toBe('[{"op":0,"d":"kept","t":"NEW_MESSAGE"}]');
    } finally {
      await second.close();
      await redis.del(boot.connectedClients, boot.undeliveredMessages);
    }
  });
});
