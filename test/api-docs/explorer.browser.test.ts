import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Issue 10: `/graphql` opened in a browser is a GraphiQL served by the platform itself (no CDN), with a field for
 * the bearer token; `/docs` renders the OpenAPI document. Real Debian chromium (DESIGN §8), a real platform, and
 * every request the pages make must stay on the platform's origin.
 */

const WS = 7402;
let platform: TestPlatform;
let browser: TestBrowser;
let token: string;
let serviceId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  token = await platform.token({ sub: 'explorer', workspaces: [WS] });
  const { modelId, version } = await platform.registerColorModel(WS, token, { name: 'explorer-colors' });
  const created = await fetch(`${platform.url}/api/v1/inference/services`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'explorer svc', workspace_id: WS, model_id: modelId, model_version: version, memory: 268435456 }),
  });
  expect(created.status).toBe(201);
  serviceId = ((await created.json()) as { data: { service_id: string } }).data.service_id;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** A page that records every request it makes and every script error or CSP refusal it reports. */
async function openPage(): Promise<{ page: Page; offsite: string[]; problems: string[]; close(): Promise<void> }> {
  const context = await browser.browser.newContext();
  const page = await context.newPage();
  const origin = new URL(platform.url).origin;
  const offsite: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:') && new URL(url).origin !== origin && !url.startsWith(origin.replace(/^http/, 'ws'))) offsite.push(url);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return { page, offsite, problems, close: () => context.close() };
}

/** The page's DOM as the callbacks below see it (the test's own TS lib has no DOM types). */
interface PageDom {
  document: { querySelector(selector: string): { CodeMirror?: { getValue(): string; setValue(value: string): void } } | null };
}

/** GraphiQL 3 edits with CodeMirror 5; its API is how a test sets and reads editor text reliably. */
const editorText = (page: Page, selector: string) => page.evaluate((sel) => (globalThis as unknown as PageDom).document.querySelector(sel)?.CodeMirror?.getValue() ?? '', selector);

describe('GraphQL explorer at /graphql', () => {
  it('runs a query with the token typed into its token field, loading nothing from off the platform', { timeout: 45_000 }, async () => {
    const { page, offsite, problems, close } = await openPage();
    try {
      const res = await page.goto(`${platform.url}/graphql`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
      await page.getByLabel('Bearer token').fill(token);
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.waitForSelector('#token-state:has-text("token set")');
      const editor = '.graphiql-query-editor .CodeMirror';
      await page.waitForSelector(editor);
      await page.evaluate((sel) => (globalThis as unknown as PageDom).document.querySelector(sel)?.CodeMirror?.setValue('{ inferenceServices { items { id } } }'), editor);
      await page.click('.graphiql-execute-button');
      const response = '.graphiql-response .CodeMirror';
      await page.waitForFunction((sel) => ((globalThis as unknown as PageDom).document.querySelector(sel)?.CodeMirror?.getValue() ?? '').includes('inferenceServices'), response);
      const result = JSON.parse(await editorText(page, response)) as { data?: { inferenceServices: { items: { id: string }[] } }; errors?: unknown };
      expect(result.errors).toBeUndefined();
      expect(result.data?.inferenceServices.items).toEqual([{ id: serviceId }]);
      expect(offsite).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('still answers GraphQL clients (JSON) on the same path', async () => {
    const res = await fetch(`${platform.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ inferenceServices { items { id } } }' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { inferenceServices: { items: [{ id: serviceId }] } } });
  });
});

describe('API reference at /docs', () => {
  it('renders the OpenAPI document with its operations, offline', { timeout: 45_000 }, async () => {
    const { page, offsite, problems, close } = await openPage();
    try {
      const res = await page.goto(`${platform.url}/docs`);
      expect(res?.status()).toBe(200);
      await page.waitForSelector('.swagger-ui .info .title');
      expect(await page.textContent('.swagger-ui .info .title')).toContain('RemoteGPU Inference');
      await page.waitForSelector('.opblock-summary-path[data-path="/api/v1/inference/services/{id}/predict"]');
      expect(offsite).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
