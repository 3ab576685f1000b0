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

/** Opens the page at `url`, signs in as `name` and waits until its Mesa socket is authenticated. */
export async function openChat(browser: Browser, url: string, name: string): Promise<ChatPage> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
  await page.goto(url);
  await page.fill('#signin-name', name);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#connection[data-state="authenticated"]');
  return { page, errors, close: () => context.close() };
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
