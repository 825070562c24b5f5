import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (DESIGN §8); `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = process.env.RGPU_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Debian chromium with a fresh profile (playwright's launch() creates an empty --user-data-dir each time
 * and removes it on close; passing one in args is refused). The background-networking flags matter here: without them chromium
 * keeps dialling Google's hosts, which this closed network refuses, and the page load waits on nothing useful.
 * Throws with the path when chromium is absent, so a browser test fails saying why rather than skipping silently.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set RGPU_CHROMIUM`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
