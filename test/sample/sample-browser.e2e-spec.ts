import { copyFile, mkdir } from 'node:fs/promises';
import { mesaRedisNames } from 'nestjs-mesa';
import type { Browser } from 'playwright-core';
import { signSessionToken } from '../../sample/auth/session-token.js';
import { launchChromium, messageTexts, openChat, send, typeUntilShown, type ChatPage } from './support/chat-browser.js';
import { buildSample, eventually, ROOT, startSample, type SampleHarness } from './support/sample-harness.js';

const SCREENSHOT = `${ROOT}test-results/sample-chat.png`;
const PHONE_SCREENSHOT = `${ROOT}test-results/sample-chat-420.png`;
const README_SCREENSHOT = `${ROOT}docs/sample-screenshot.png`;

// The sample as a person uses it: Chromium pages speaking Mesa's protocol over a raw WebSocket to
// two Mesa replicas, the Nest app behind them, a private Redis. One story, in order.
describe('sample chat in a real browser', () => {
  let harness: SampleHarness;
  let browser: Browser;
  let inspect: ReturnType<SampleHarness['redis']['client']>;
  const pages: ChatPage[] = [];
  const open = async (name: string) => {
    const chat = await openChat(browser, harness.url, name);
    pages.push(chat);
    return chat;
  };
  const isOnline = async (id: string) => (await inspect.sismember(mesaRedisNames('sample-test').connectedClients, id)) === 1;
  let ada: ChatPage;
  let grace: ChatPage;
  let carol: ChatPage;

  beforeAll(async () => {
    buildSample();
    harness = await startSample({ replicas: 2, heartbeatMs: 500 });
    inspect = harness.redis.client();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    inspect?.disconnect();
    await harness?.stop();
  });
  afterEach(() => expect(pages.flatMap((chat) => chat.errors)).toEqual([]));

  it('two people in two pages: a post reaches the other live, and its author sees it once', async () => {
    ada = await open('Ada');
    grace = await open('Grace');
    await expect(ada.page.textContent('#detail-replica')).resolves.toContain('replica 1 of 2');
    await expect(grace.page.textContent('#detail-replica')).resolves.toContain('replica 2 of 2');

    await send(ada, 'Hello Grace, this went through @Dispatch, Redis and Mesa.');
    await grace.page.locator('.message[data-author="ada"] .text', { hasText: 'Hello Grace' }).waitFor();
    await typeUntilShown(grace, ada, 'Got it', 'Grace is typing');
    await send(grace, 'Got it live, from the other replica.');
    // Grace's reply travels the same Redis channel after Ada's post: once Ada has it, a copy of her
    // own post would already be on her page.
    await ada.page.locator('.message[data-author="grace"]').waitFor();
    expect(await messageTexts(ada)).toEqual([
      'Hello Grace, this went through @Dispatch, Redis and Mesa.',
      'Got it live, from the other replica.',
    ]);
    expect(await messageTexts(grace)).toEqual(await messageTexts(ada));
    expect(await ada.page.locator('.message.redelivered').count()).toBe(0);
  }, 60_000);

  it('answers the Mesa heartbeats (op 1 → op 11), so the server keeps the socket', async () => {
    await ada.page.waitForFunction("Number(document.querySelector('#detail-heartbeats').textContent) >= 6", undefined, { timeout: 15_000 });
    // The server drops a socket after 3 unanswered beats; six beats in, it is still authenticated.
    await expect(ada.page.getAttribute('#connection', 'data-state')).resolves.toBe('authenticated');
    expect(await isOnline('ada')).toBe(true);
  }, 30_000);

  it('a member who was offline sees what they missed on arrival, with Mesa sequence numbers', async () => {
    const first = await open('Carol');
    await first.close();
    await eventually(async () => !(await isOnline('carol')), 'Mesa to mark Carol offline');
    await send(ada, 'Carol, we moved the demo to Thursday.');
    await send(grace, 'And the slides are in #mesa.');

    carol = await open('Carol');
    const redelivered = carol.page.locator('.message.redelivered');
    await redelivered.nth(1).waitFor();
    const shown = [];
    for (const item of await redelivered.all())
      shown.push([await item.getAttribute('data-seq'), await item.locator('.text').textContent()]);
    expect(shown).toEqual([
      ['1', 'Carol, we moved the demo to Thursday.'],
      ['2', 'And the slides are in #mesa.'],
    ]);
    await expect(redelivered.first().locator('.badge').textContent()).resolves.toBe('redelivered · s=1');
    await expect(carol.page.textContent('#detail-redelivered')).resolves.toBe('2');

    await send(ada, 'Welcome back, Carol!');
    await carol.page.locator('.message:not(.redelivered) .text', { hasText: 'Welcome back' }).waitFor();
    await typeUntilShown(grace, carol, 'See you', 'Grace is typing');
    await mkdir(`${ROOT}test-results`, { recursive: true });
    await carol.page.screenshot({ path: SCREENSHOT });
    // the README's copy changes only on request, so a test run leaves the work tree clean
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      await mkdir(`${ROOT}docs`, { recursive: true });
      await copyFile(SCREENSHOT, README_SCREENSHOT);
    }
  }, 60_000);

  it('fits a phone (420 px wide): the status label whole, the composer and its Send button on screen', async () => {
    const { page } = carol;
    await page.setViewportSize({ width: 420, height: 860 });
    try {
      // expressions run in the page (this project type-checks without the DOM library)
      const inPage = (expression: string) => page.evaluate(expression) as Promise<boolean>;
      const box = async (selector: string) => (await page.locator(selector).boundingBox())!;
      const layout = {
        pageScrollsSideways: await inPage('document.documentElement.scrollWidth > window.innerWidth'),
        pillClipped: await inPage(
          "(p => p.scrollWidth > p.clientWidth || p.getBoundingClientRect().right > window.innerWidth)(document.querySelector('#connection'))",
        ),
        send: await box('#composer button[type=submit]'),
        input: await box('#message-input'),
        messages: await box('#messages'),
        ...page.viewportSize()!,
      };
      expect(layout.pageScrollsSideways).toBe(false);
      expect(layout.pillClipped).toBe(false);
      expect(layout.send.x).toBeGreaterThanOrEqual(0);
      expect(layout.send.x + layout.send.width).toBeLessThanOrEqual(layout.width);
      expect(layout.send.y + layout.send.height).toBeLessThanOrEqual(layout.height);
      expect(layout.input.width).toBeGreaterThan(150);
      expect(layout.messages.width).toBeGreaterThan(350);
      await expect(page.locator('#composer button[type=submit]').isVisible()).resolves.toBe(true);
      await page.screenshot({ path: PHONE_SCREENSHOT });
    } finally {
      await page.setViewportSize({ width: 1360, height: 820 });
    }
  }, 30_000);

  it('a kick closes the kicked page’s socket and tells them who did it', async () => {
    const member = ada.page.locator('.member[data-user="carol"]');
    await member.hover();
    await member.locator('button.kick').click();
    await carol.page.locator('#connection[data-state="kicked"]').waitFor();
    await expect(carol.page.textContent('#detail-socket')).resolves.toBe('closed (1000) · kicked');
    await expect(carol.page.textContent('#notice-text')).resolves.toBe('Ada removed you from #general and closed your connection.');
    await eventually(async () => !(await isOnline('carol')), 'Mesa to mark Carol offline');
    await ada.page.locator('#messages .system', { hasText: 'Carol left #general' }).waitFor();
    await expect(ada.page.locator('.member[data-user="carol"]').count()).resolves.toBe(0);
  }, 30_000);

  it('refuses a socket whose token was forged (1008, never authenticated)', async () => {
    const forged = signSessionToken({ sub: 'ada', name: 'Ada', rep: 0 }, 'a-guessed-secret-a-guessed-secret', 600).token;
    const port = harness.sample.config.mesaPorts[0];
    const outcome = await ada.page.evaluate(
      ({ port, token }) =>
        new Promise<{ code: number; ops: number[] }>((resolve) => {
          const ops: number[] = [];
          const ws = new WebSocket(`ws://127.0.0.1:${port}`);
          ws.onmessage = (event) => {
            const frame = JSON.parse(event.data);
            ops.push(frame.op);
            if (frame.op === 10) ws.send(JSON.stringify({ op: 2, d: { token } }));
          };
          ws.onclose = (event) => resolve({ code: event.code, ops });
        }),
      { port, token: forged },
    );
    expect(outcome).toEqual({ code: 1008, ops: [10] });
    await expect(ada.page.getAttribute('#connection', 'data-state')).resolves.toBe('authenticated');
  }, 30_000);
});
