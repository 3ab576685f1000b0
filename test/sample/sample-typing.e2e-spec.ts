import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { launchChromium, type ChatPage } from './support/chat-browser.js';
import { callApi } from './support/chat-client.js';
import { ChatClient } from './support/chat-client.js';
import { buildSample, eventually, startSample, type SampleHarness } from './support/sample-harness.js';

const require = createRequire(import.meta.url);
const { Client, Message } = require('@cryb/mesa') as {
  Client: new (url: string, config?: object) => MesaNodeClient;
  Message: new (op: number, d: unknown, t?: string) => object;
};
interface MesaNodeClient {
  connect(): Promise<void>;
  authenticate(data: object): Promise<unknown>;
  send(message: object): void;
  disconnect(code?: number): void;
  on(event: string, listener: (...args: any[]) => void): void;
}

/** A page signed in as `name`, recording the frames it sends over its WebSocket and its HTTP requests. */
async function openRecordedChat(
  browser: Browser,
  url: string,
  name: string,
): Promise<ChatPage & { sentFrames: string[]; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  const sentFrames: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
  page.on('websocket', (socket) => socket.on('framesent', (frame) => sentFrames.push(String(frame.payload))));
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
  await page.goto(url);
  await page.fill('#signin-name', name);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#connection[data-state="authenticated"]');
  return { page, errors, sentFrames, requests, close: () => context.close() };
}

// Typing goes from the page over its Mesa socket, through Mesa's Portal, to a Nest handler
// (sample/chat/typing.portal.ts) that dispatches it to the room's other members.
describe('sample: typing over the Mesa socket, through the Portal', () => {
  let harness: SampleHarness;
  let browser: Browser;
  const pages: ChatPage[] = [];

  beforeAll(async () => {
    buildSample();
    harness = await startSample({ replicas: 2, heartbeatMs: 500 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pages.map((chat) => chat.close()));
    await browser?.close();
    await harness?.stop();
  });
  afterEach(() => expect(pages.flatMap((chat) => chat.errors)).toEqual([]));

  it('a page typing sends TYPING on its socket (no HTTP request) and the other member sees it, across replicas', async () => {
    const ada = await openRecordedChat(browser, harness.url, 'Ada');
    const grace = await openRecordedChat(browser, harness.url, 'Grace');
    pages.push(ada, grace);
    await expect(ada.page.textContent('#detail-replica')).resolves.toContain('replica 1 of 2');
    await expect(grace.page.textContent('#detail-replica')).resolves.toContain('replica 2 of 2');

    await grace.page.fill('#message-input', 'Hel');
    await ada.page.locator('#typing', { hasText: 'Grace is typing' }).waitFor();
    const typingFrames = grace.sentFrames.map((frame) => JSON.parse(frame)).filter((frame) => frame.t === 'TYPING');
    expect(typingFrames).toEqual([{ op: 0, t: 'TYPING', d: { room: 'general' } }]);
    expect(grace.requests.filter((request) => request.includes('/typing'))).toEqual([]);
    expect(await grace.page.textContent('#typing')).toBe('');
  });

  it('the portal trusts the socket, not the frame: no typing for a room the sender is not in, and never as someone else', async () => {
    const eve = await ChatClient.signIn(harness.url, 'Eve');
    expect((await callApi(harness.url, 'POST', '/api/rooms/random/join', eve.token)).status).toBeLessThan(300);
    const eveSocket = await ChatClient.connect(eve.mesa.port, eve.token);
    const mallory = await ChatClient.signIn(harness.url, 'Mallory');
    const forger = new Client(`ws://127.0.0.1:${mallory.mesa.port}`, { autoConnect: false });
    forger.on('error', () => undefined);
    await forger.connect();
    await forger.authenticate({ token: mallory.token });
    try {
      forger.send(new Message(0, { room: 'random' }, 'TYPING'));
      forger.send(new Message(0, { room: 'no-such-room' }, 'TYPING'));
      forger.send(new Message(0, 'not an object', 'TYPING'));
      forger.send(new Message(0, { room: 'general', user: { id: eve.user.id, name: 'Eve' } }, 'TYPING'));
      await eventually(() => eveSocket.of('TYPING').length > 0, 'the valid TYPING', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(eveSocket.of('TYPING').map((message) => message.d)).toEqual([
        { room: 'general', user: { id: mallory.user.id, name: 'Mallory' } },
      ]);
    } finally {
      forger.disconnect(1000);
      eveSocket.close();
    }
  });
});
