import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); Playwright cannot download browsers here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium without any network chatter of its own. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests drive Debian's Chromium at ${CHROMIUM}, which is not installed: apt-get update && apt-get install -y chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A person at the chat page, in a browser context of their own (own cookies and storage). */
export interface ChatPage {
  page: Page;
  /** Uncaught errors of the page's scripts, collected for the test to check. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Opens the page at `url`, signs in as `name` and waits until its Mesa socket is authenticated. A new browser
 * context (cookies and storage of its own) unless `tabOf` is given: then a new tab beside that page, which asks
 * for a sign-in again, since the session is kept per tab.
 */
export async function openChat(browser: Browser, url: string, name: string, tabOf?: ChatPage): Promise<ChatPage> {
  const context = tabOf
    ? tabOf.page.context()
    : await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
  await page.goto(url);
  await page.fill('#signin-name', name);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#connection[data-state="authenticated"]');
  return { page, errors, close: () => (tabOf ? page.close() : context.close()) };
}

/** Types `text` into the composer and sends it; resolves once the page shows it as its own message. */
export async function send(chat: ChatPage, text: string): Promise<void> {
  await chat.page.fill('#message-input', text);
  await chat.page.press('#message-input', 'Enter');
  await chat.page.locator('.message.own .text', { hasText: text }).first().waitFor();
}

/** The texts of the messages the page shows, in order. */
export function messageTexts(chat: ChatPage): Promise<string[]> {
  return chat.page.locator('#messages .message .text').allTextContents();
}

/**
 * Types `text` into `typist`'s composer and waits until `watcher` shows `shown` ("Grace is typing"). A TYPING frame is
 * live only (Mesa's Portal is pub/sub, and the page sends nothing while its socket re-authenticates), so a person who
 * is still typing sends another: one more key every 3 s (past the page's 2.5 s throttle) until the line shows.
 */
export async function typeUntilShown(typist: ChatPage, watcher: ChatPage, text: string, shown: string, timeoutMs = 20_000): Promise<void> {
  const composer = typist.page.locator('#message-input');
  const line = watcher.page.locator('#typing', { hasText: shown });
  const deadline = Date.now() + timeoutMs;
  await composer.fill(text);
  for (;;) {
    try {
      await line.waitFor({ timeout: 3_000 });
      return;
    } catch (error) {
      const state = await typist.page.getAttribute('#connection', 'data-state');
      if (Date.now() > deadline)
        throw new Error(`"${shown}" never showed within ${timeoutMs} ms; the typist's socket is ${state}`, { cause: error });
      // kept visible in the test output: a lost frame here is worth knowing about
      console.warn(`typeUntilShown: "${shown}" not shown after 3 s (the typist's socket is ${state}); typing on`);
    }
    await composer.pressSequentially('.');
  }
}

/** What a page's Members panel shows: its count line and each member's state (online, away or offline). */
export interface ShownPresence {
  count: string;
  members: Record<string, string>;
}

/** Reads the Members panel of `chat` (visible or not: the panel may be folded away on a narrow page). */
export function shownPresence(chat: ChatPage): Promise<ShownPresence> {
  return chat.page.evaluate(`(() => ({
    count: document.querySelector('#member-count').textContent,
    members: Object.fromEntries([...document.querySelectorAll('#member-list .member')].map((member) =>
      [member.dataset.user, ['online', 'away', 'offline'].find((state) => member.classList.contains(state))]).sort()),
  }))()`) as Promise<ShownPresence>;
}

/** Waits until every page in `chats` shows `expected`; on timeout, throws with what each page shows. */
export async function waitForPresence(chats: Record<string, ChatPage>, expected: ShownPresence, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = Object.fromEntries(
      await Promise.all(Object.entries(chats).map(async ([name, chat]) => [name, await shownPresence(chat)])),
    );
    const wrong = Object.entries(shown).filter(([, presence]) => JSON.stringify(presence) !== JSON.stringify(expected));
    if (wrong.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `pages did not show ${JSON.stringify(expected)} within ${timeoutMs} ms; they show:\n${JSON.stringify(shown, null, 2)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Makes the page believe it was hidden (another tab in front, a locked phone) or shown again, as the browser would tell it. */
export async function setHidden(chat: ChatPage, hidden: boolean): Promise<void> {
  await chat.page.evaluate(`(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
    document.dispatchEvent(new Event('visibilitychange'));
  })()`);
}

/** What a person can see of the page at its current size, measured from element boxes (not from a screenshot). */
export interface LayoutFacts {
  /** The page itself scrolls sideways. */
  pageScrollsSideways: boolean;
  /** Every visible item of the top bar shares one line (each starts above where every other ends), inside the viewport. */
  topBarOneLine: boolean;
  topBarInside: boolean;
  /** The connection pill shows its whole text. */
  pillWhole: boolean;
  /** The side panel (members, kick, connection, wire) is on screen without any action. */
  panelShown: boolean;
}

/** Measures {@link LayoutFacts} in the page. */
export function layoutFacts(chat: ChatPage): Promise<LayoutFacts> {
  return chat.page.evaluate(`(() => {
    const shown = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const box = (el) => el.getBoundingClientRect();
    const inside = (b) => b.left >= 0 && b.right <= window.innerWidth + 0.5 && b.top >= 0 && b.bottom <= window.innerHeight + 0.5;
    const items = [...document.querySelector('.topbar').children].filter(shown).map(box);
    const pill = document.querySelector('#connection');
    const panel = document.querySelector('.side-panel');
    return {
      pageScrollsSideways: document.documentElement.scrollWidth > window.innerWidth,
      topBarOneLine: items.every((a) => items.every((b) => a.top < b.bottom && b.top < a.bottom)),
      topBarInside: items.every(inside),
      pillWhole: pill.scrollWidth <= pill.clientWidth && inside(box(pill)),
      panelShown: shown(panel) && inside(box(panel)) && box(panel).width > 200,
    };
  })()`) as Promise<LayoutFacts>;
}

/** Whether `selector` is visible and its box lies wholly inside the viewport (after scrolling its container to it). */
export async function onScreen(chat: ChatPage, selector: string): Promise<boolean> {
  const locator = chat.page.locator(selector).first();
  if (!(await locator.isVisible())) return false;
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const { width, height } = chat.page.viewportSize()!;
  return !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 0.5 && box.y + box.height <= height + 0.5;
}
