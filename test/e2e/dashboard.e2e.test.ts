// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core through its
// executable path (nothing is downloaded), against the real agent process on a real engine, with commits
// pushed to a real repository. The page must see the app, follow a flip without a reload, show a refused
// commit's located error, keep its buttons off until the token is given, fit a 375 px screen and work
// from the keyboard. It saves a screenshot (.artifacts/dashboard.png) and prints what the first load weighs.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateFiles } from '../../src/commands/state-files.js';
import { E2eWorld } from '../support/agent-process.js';
import { appYaml } from '../support/app-yaml.js';
import { freePort } from '../support/ports.js';
import { testImages } from '../support/run.js';
import { startLoad } from '../support/load.js';

const CHROMIUM = '/usr/bin/chromium';
/** What the machine's closed network needs: no background fetches, no QUIC, no component updates. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the dashboard in a real browser', () => {
  const world = new E2eWorld();
  let browser: Browser;
  let page: Page;
  let listen: number;
  const consoleErrors: string[] = [];
  let navigations = 0;
  const yaml = (active: 'blue' | 'green', more = '') => appYaml({ listen, active, blueImage: testImages().ok, greenImage: testImages().ok, more });
  const app = () => page.locator('article[data-app="web"]');

  beforeAll(async () => {
    listen = await freePort();
    await world.serve({ 'apps/web.yaml': yaml('blue') });
    await world.start('300ms');
    await world.settle({ 'apps/web.yaml': yaml('blue') }, ['web'], 'web: blue');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await world.tearDown();
  });

  it('loads from the agent alone, with its security headers, and shows the app', async () => {
    const sizes: number[] = [];
    const origins = new Set<string>();
    page.on('requestfinished', async (r) => {
      origins.add(new URL(r.url()).origin);
      const s = await r.sizes();
      sizes.push(s.responseBodySize + s.responseHeadersSize);
    });
    const res = await page.goto(world.agent.apiUrl);
    expect(res!.status()).toBe(200);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    await app().locator('[data-active="blue"]').waitFor();
    await page.waitForLoadState('networkidle');
    expect([...origins]).toEqual([world.agent.apiUrl]);
    // The JSON answers carry the headers too.
    expect((await fetch(`${world.agent.apiUrl}/status`)).headers.get('x-frame-options')).toBe('DENY');
    console.log(`dashboard first load: ${sizes.length} requests, ${sizes.reduce((a, b) => a + b, 0)} bytes transferred`);
  });

  it('fits a 375 px screen and is reached from the keyboard', async () => {
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('token');
  });

  it('keeps sync, suspend and resume off without the token, and on with it', async () => {
    expect(await page.locator('#sync').isDisabled()).toBe(true);
    expect(await app().locator('button').isDisabled()).toBe(true);
    const token = readFileSync(stateFiles(world.stateDir, world.instance).apiToken, 'utf8').trim();
    await page.fill('#token', token);
    await page.keyboard.press('Enter');
    await app().locator('button:not([disabled])').waitFor();
    await app().locator('button').click();
    await app().locator('text=suspended').waitFor();
    expect((await world.agent.status()).apps.web?.suspended).toBe(true);
    await app().locator('button', { hasText: 'Resume' }).click();
    await app().locator('text=suspended').waitFor({ state: 'detached' });
    expect((await world.agent.status()).apps.web?.suspended).toBeFalsy();
    // Forgotten again: read-only.
    await page.click('#forget');
    expect(await page.locator('#sync').isDisabled()).toBe(true);
    // Kept in this tab's sessionStorage, never in a cookie.
    expect(await page.context().cookies()).toEqual([]);
  });

  it('follows a flip without a reload', async () => {
    const before = navigations;
    world.repo.commit('web: flip to green', { 'apps/web.yaml': yaml('green') });
    await app().locator('[data-active="green"]').waitFor({ timeout: 60_000 });
    expect(navigations).toBe(before);
    await page.locator('#history tbody tr', { hasText: 'web: flip to green' }).first().waitFor({ timeout: 30_000 });
  });

  it("shows a refused commit's located error, and what stays live", async () => {
    world.repo.commit('web: a typo', { 'apps/web.yaml': yaml('green').replace('active: green', 'active: purple') });
    await page.locator('#refused').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await page.locator('#refused-errors').textContent()).toMatch(/apps\/web\.yaml:\d+:\d+ active: must be one of "blue", "green"/);
    expect(await app().locator('[data-active="green"]').count()).toBe(1);
    // Newest first: the refusal heads the history; no value is missing from the page.
    await page.locator('#history tbody tr').first().filter({ hasText: 'web: a typo' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('body').textContent()).not.toMatch(/undefined|NaN/);
    // Some traffic for the charts, then the picture.
    const load = startLoad(listen, 2);
    await page.locator('.traffic span', { hasText: /^[1-9][0-9.]* req\/s$/ }).first().waitFor({ timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await load.stop()).failed).toBe(0);
    await page.setViewportSize({ width: 1100, height: 900 });
    mkdirSync('.artifacts', { recursive: true });
    await page.screenshot({ path: '.artifacts/dashboard.png', fullPage: true });
    expect(existsSync('.artifacts/dashboard.png')).toBe(true);
    expect(consoleErrors.join("\n")).toBe("");
  });
});
