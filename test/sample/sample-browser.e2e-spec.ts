import { copyFile, mkdir } from 'node:fs/promises';
import { mesaRedisNames } from 'nestjs-mesa';
import type { Browser } from 'playwright-core';
import { signSessionToken } from '../../sample/auth/session-token.js';
import {
  launchChromium,
  layoutFacts,
  messageTexts,
  onScreen,
  openChat,
  send,
  setHidden,
  typeUntilShown,
  waitForPresence,
  type ChatPage,
} from './support/chat-browser.js';
import type { SampleAppOptions } from '../../sample/create-sample-app.js';
import { buildSample, eventually, ROOT, startSample, type SampleHarness } from './support/sample-harness.js';

const SCREENSHOT = `${ROOT}test-results/sample-chat.png`;
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/** One series of nestjs-mesa's dispatch counter (OpenTelemetry `messaging.client.sent.messages`) in a Prometheus text. */
const SENT_SERIES = /^messaging_client_sent_messages_total\{([^}]*)\} (\d+)$/gm;

/** The dispatch counter's series in a Prometheus text: labels and value. */
function sentSeries(text: string): { labels: string; value: number }[] {
  return [...text.matchAll(SENT_SERIES)].map(([, labels, value]) => ({ labels, value: Number(value) }));
}

/** `GET /metrics` of the sample: status, content type and text. */
async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** What the page's Dispatches panel shows. */
async function dispatchesPanel(chat: ChatPage): Promise<{ rate: string; sent: string; failed: string }> {
  const [rate, sent, failed] = await Promise.all(
    ['#metrics-rate', '#metrics-sent', '#metrics-failed'].map((id) => chat.page.textContent(id)),
  );
  return { rate: rate!, sent: sent!, failed: failed! };
}
const PHONE_SCREENSHOT = `${ROOT}test-results/sample-chat-420.png`;
const PHONE_PANEL_SCREENSHOT = `${ROOT}test-results/sample-chat-420-panel.png`;
const README_SCREENSHOT = `${ROOT}docs/sample-screenshot.png`;

/**
 * For one describe: the sample on two replicas and a private Redis, a Chromium, and the pages `open` opens (a new
 * browser, or a new tab of `tabOf`); after each test, no page may have thrown.
 */
function useSampleInChromium(options: SampleAppOptions = {}) {
  const env = {
    harness: undefined as unknown as SampleHarness,
    browser: undefined as unknown as Browser,
    inspect: undefined as unknown as ReturnType<SampleHarness['redis']['client']>,
    pages: [] as ChatPage[],
    async open(name: string, tabOf?: ChatPage): Promise<ChatPage> {
      const chat = await openChat(env.browser, env.harness.url, name, tabOf);
      env.pages.push(chat);
      return chat;
    },
    /** Whether Mesa's connected_clients holds `id`. */
    async inConnectedClients(id: string): Promise<boolean> {
      return (await env.inspect.sismember(mesaRedisNames('sample-test').connectedClients, id)) === 1;
    },
  };
  beforeAll(async () => {
    buildSample();
    env.harness = await startSample({ replicas: 2, ...options });
    env.inspect = env.harness.redis.client();
    env.browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await env.browser?.close();
    env.inspect?.disconnect();
    await env.harness?.stop();
  });
  afterEach(() => expect(env.pages.flatMap((chat) => chat.errors)).toEqual([]));
  return env;
}

// The sample as a person uses it: Chromium pages speaking Mesa's protocol over a raw WebSocket to
// two Mesa replicas, the Nest app behind them, a private Redis. One story, in order.
describe('sample chat in a real browser', () => {
  const sample = useSampleInChromium({ heartbeatMs: 500 });
  const { open } = sample;
  const isOnline = (id: string) => sample.inConnectedClients(id);
  let ada: ChatPage;
  let grace: ChatPage;
  let carol: ChatPage;

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

  it('GET /metrics answers in Prometheus text with the dispatches counted by channel, and the Dispatches panel shows their rate from it', async () => {
    const channel = mesaRedisNames('sample-test').channel;
    const total = (text: string) => sentSeries(text).reduce((sum, series) => sum + series.value, 0);
    const before = total((await scrape(sample.harness.url)).text);
    for (const word of ['one', 'two', 'three']) await send(ada, `Counting dispatches: ${word}.`);

    const { status, type, text } = await scrape(sample.harness.url);
    expect([status, type]).toEqual([200, PROMETHEUS_TEXT]);
    expect(text).toContain('# TYPE messaging_client_sent_messages_total counter');
    const series = sentSeries(text);
    expect(series.length).toBeGreaterThan(0);
    expect(series.filter(({ labels }) => !labels.includes(`messaging_destination_name="${channel}"`))).toEqual([]);
    expect(series.filter(({ labels }) => labels.includes('error_type='))).toEqual([]);
    expect(total(text)).toBeGreaterThanOrEqual(before + 3); // each post dispatches NEW_MESSAGE once (typing adds TYPING)

    await ada.page.waitForFunction("Number(document.querySelector('#metrics-rate').textContent) > 0", undefined, { timeout: 10_000 });
    expect((await dispatchesPanel(ada)).failed).toBe('0');
    // The panel shows what the exporter says: once nothing is dispatched, its count is the scrape's.
    await eventually(
      async () => Number((await dispatchesPanel(ada)).sent) === total((await scrape(sample.harness.url)).text),
      'the panel to show the count /metrics reports',
      10_000,
    );
  }, 30_000);

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

  it('at 1280, 800 and 420 px wide: the top bar is one line, the side panel (members, kick, connection, dispatches, wire) is shown or one tap away, the composer fits', async () => {
    const { page } = carol;
    const ada = '#member-list .member[data-user="ada"]';
    const seen: Record<number, object> = {};
    try {
      for (const width of [1280, 800, 420]) {
        await page.setViewportSize({ width, height: 860 });
        const { panelShown, ...facts } = await layoutFacts(carol);
        let panel = panelShown ? 'shown' : 'unreachable';
        if (!panelShown && (await onScreen(carol, '#panel-toggle'))) {
          await page.click('#panel-toggle');
          panel = (await layoutFacts(carol)).panelShown ? 'one tap away' : 'the toggle does not show it';
        }
        if (panel === 'shown') await page.hover(ada); // with a mouse, Kick shows on hover; on a narrow screen it is always there
        const reach = {
          members: await onScreen(carol, ada),
          kick: await onScreen(carol, `${ada} button.kick`),
          connection: await onScreen(carol, '#detail-socket'),
          dispatches: await onScreen(carol, '#metrics-rate'),
          wire: await onScreen(carol, '#wire'),
        };
        if (width === 420 && panel === 'one tap away') await page.screenshot({ path: PHONE_PANEL_SCREENSHOT });
        if (panel === 'one tap away') await page.click('#panel-toggle');
        const composer = {
          panelFoldsAway: panel === 'shown' || !(await layoutFacts(carol)).panelShown,
          send: await onScreen(carol, '#composer button[type=submit]'),
          inputWide: (await page.locator('#message-input').boundingBox())!.width > 150,
          messagesWide: (await page.locator('#messages').boundingBox())!.width > Math.min(350, width / 2),
        };
        if (width === 420) await page.screenshot({ path: PHONE_SCREENSHOT });
        seen[width] = { ...facts, panel, ...reach, ...composer };
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 820 });
    }
    const fits = { pageScrollsSideways: false, topBarOneLine: true, topBarInside: true, pillWhole: true };
    const reachable = { members: true, kick: true, connection: true, dispatches: true, wire: true };
    const composer = { panelFoldsAway: true, send: true, inputWide: true, messagesWide: true };
    expect(seen).toEqual({
      1280: { ...fits, panel: 'shown', ...reachable, ...composer },
      800: { ...fits, panel: 'one tap away', ...reachable, ...composer },
      420: { ...fits, panel: 'one tap away', ...reachable, ...composer },
    });
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
    const port = sample.harness.sample.config.mesaPorts[0];
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

// Presence as Mesa knows it: sockets authenticated and closed, counted per user from the Portal's events. Mesa's own
// connected_clients drops a user when any one of their sockets closes, and a page cannot be trusted to say it left.
describe('sample presence in a real browser', () => {
  const sample = useSampleInChromium();
  const { open, inConnectedClients } = sample;

  it('three tabs as two people, beside a watcher: closing two of them (one went away first) leaves every other page right', async () => {
    const bob = await open('Bob');
    const adaFirst = await open('Ada');
    const adaSecond = await open('Ada', adaFirst); // a second tab of the same browser: it signs in again
    const grace = await open('Grace');
    const everyone = { ada: 'online', bob: 'online', grace: 'online' };
    await waitForPresence({ bob, adaFirst, adaSecond, grace }, { count: '3 online · 3', members: everyone });

    await setHidden(grace, true);
    await waitForPresence({ bob, adaFirst, adaSecond }, { count: '3 online · 3', members: { ...everyone, grace: 'away' } });
    await setHidden(adaSecond, true);
    await setHidden(adaFirst, true);
    await waitForPresence({ bob, grace }, { count: '3 online · 3', members: { ...everyone, ada: 'away', grace: 'away' } });
    await setHidden(adaFirst, false); // one of Ada's tabs is in front again: she is here
    await waitForPresence({ bob, grace }, { count: '3 online · 3', members: { ...everyone, grace: 'away' } });

    await grace.close(); // she went away first, then closed the tab
    await waitForPresence({ bob, adaFirst, adaSecond }, { count: '2 online · 3', members: { ...everyone, grace: 'offline' } });
    expect(await inConnectedClients('grace')).toBe(false);

    await adaSecond.close(); // her hidden tab; the other one stays open
    // Mesa forgets Ada as soon as either socket closes; the app counts her sockets and asks the open tab where it is.
    await adaFirst.page.locator('#wire .frame.in[data-type="PRESENCE_PROBE"]').waitFor({ timeout: 10_000 });
    expect(await inConnectedClients('ada')).toBe(false);
    const afterClose = { count: '2 online · 3', members: { ...everyone, grace: 'offline' } };
    await waitForPresence({ bob, adaFirst }, afterClose);

    await bob.page.reload(); // what the API answers a fresh page
    await bob.page.waitForSelector('#connection[data-state="authenticated"]');
    await waitForPresence({ bob }, afterClose);
  }, 90_000);

  it('says on the sign-in page that the session is kept per tab, and a new tab of the same browser asks again', async () => {
    const bob = await open('Bob');
    const tab = await bob.page.context().newPage();
    try {
      await tab.goto(sample.harness.url);
      await tab.waitForSelector('#signin-form');
      expect((await tab.textContent('#signin-scope'))!.replace(/\s+/g, ' ').trim()).toBe(
        'You are signed in in this tab only: a reload keeps you here, a new tab or window asks again, so each tab can be someone else.',
      );
      await bob.page.reload();
      await bob.page.waitForSelector('#connection[data-state="authenticated"]'); // the reload kept the session
    } finally {
      await tab.close();
    }
  }, 30_000);
});

// A dispatch that fails, as an operator would see it: Redis refuses writes (maxmemory reached, OOM), a post is not
// sent, and both /metrics and the Dispatches panel count it as failed, with Redis' error code.
describe('sample metrics in a real browser when Redis refuses writes', () => {
  const sample = useSampleInChromium({ logger: false }); // Nest would log the refused post's 500, which is the point here

  it('a post refused by Redis (OOM) is counted as failed in /metrics, with error_type="OOM", and the panel shows it', async () => {
    const ada = await sample.open('Ada');
    await sample.open('Grace'); // a roommate, so that Ada's post has somebody to go to
    await send(ada, 'Sent while Redis has room.');
    await ada.page.waitForFunction("document.querySelector('#metrics-sent').textContent !== '–'", undefined, { timeout: 10_000 });
    expect((await dispatchesPanel(ada)).failed).toBe('0');

    await sample.inspect.config('SET', 'maxmemory', '1'); // with the default noeviction policy, every write is refused
    try {
      await ada.page.fill('#message-input', 'Refused by Redis.');
      await ada.page.press('#message-input', 'Enter');
      await ada.page.locator('#notice-text', { hasText: 'Not sent' }).waitFor({ timeout: 10_000 });
    } finally {
      await sample.inspect.config('SET', 'maxmemory', '0');
    }
    const failed = sentSeries((await scrape(sample.harness.url)).text).filter(({ labels }) => labels.includes('error_type='));
    expect(failed.map(({ labels }) => labels.match(/error_type="([^"]*)"/)![1])).toEqual(['OOM']);
    expect(failed[0].value).toBeGreaterThanOrEqual(1);
    await ada.page.waitForFunction("Number(document.querySelector('#metrics-failed').textContent) > 0", undefined, { timeout: 10_000 });
    await expect(ada.page.locator('#metrics-failed-stat.bad').count()).resolves.toBe(1);
    expect(Number((await dispatchesPanel(ada)).failed)).toBe(failed.reduce((sum, series) => sum + series.value, 0));
  }, 60_000);
});
