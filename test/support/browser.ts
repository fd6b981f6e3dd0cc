import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { chromiumPath, ensureChromiumInstalled } from '../../scripts/stack/system.ts';

/**
 * Headless Debian Chromium driven by puppeteer-core, for the real-browser checks. The flags keep
 * Chromium from reaching for Google's services, which a closed network refuses many at a time.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  ensureChromiumInstalled();
  const profile = mkdtempSync(join(tmpdir(), 'cqrs-catalog-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
