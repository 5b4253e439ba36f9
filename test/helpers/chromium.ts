import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { chromium, type BrowserContext, type BrowserContextOptions, type LaunchOptions, type Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import type { Services } from '../../src/services.js';

/** Debian's Chromium, which .ci/run installs; playwright-core never downloads a browser of its own here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Skip reason for browser tests on a machine without it (tap's `skip` option). */
export const chromiumSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (.ci/run installs Debian's chromium)`;

/**
 * As root and with no network but loopback: no sandbox, and no background connections, which the closed
 * network would refuse many at a time.
 */
const LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

/** The app listening on a loopback port of its own, closed when the test ends. */
export async function serveApp(t: Test, services: Services): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp(services);
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** Chromium with a fresh profile, one window's cookies; closed and its profile removed when the test ends. */
export async function launchWithProfile(t: Test, options: BrowserContextOptions): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
  t.teardown(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, { ...LAUNCH, ...options });
  t.teardown(() => context.close());
  return context;
}

/** Signs an agent in through the login form and waits for the queue. */
export async function signInStaff(page: Page, base: string, who: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/scp/login`);
  await page.fill('#f-login', who.username);
  await page.fill('#f-password', who.password);
  await Promise.all([page.waitForURL(/\/scp\/tickets/), page.click('button[type=submit].primary')]);
}

/** Chromium for several separate contexts (agents side by side, like private windows); closed when the test ends. */
export async function launchBrowser(t: Test) {
  const browser = await chromium.launch(LAUNCH);
  t.teardown(() => browser.close());
  return browser;
}
