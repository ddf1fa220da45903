// A real browser for console tests: playwright-core driving the system's Chromium (Debian's
// `chromium` package; CI installs it). Each launch gets a fresh profile directory, removed on close.
// When Chromium is absent the caller skips, and says so.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.VIDSEARCH_CHROMIUM ?? '/usr/bin/chromium';

/** True when Chromium is installed; otherwise prints why the browser tests skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  console.warn(`[skip] ${CHROMIUM_PATH} is absent (apt-get install -y chromium, or set VIDSEARCH_CHROMIUM); browser tests are skipped`);
  return false;
}

// Quiet and self-contained: no GPU, no sandbox (containers), no calls home, no first-run UI.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Media plays in tests without a click first.
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1440, height: 900 }): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-chromium-'));
  // launchPersistentContext passes `profile` as --user-data-dir (Playwright refuses it in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
