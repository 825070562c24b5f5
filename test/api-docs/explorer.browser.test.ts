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
let modelId: number;

beforeAll(async () => {
  platform = await startTestPlatform();
  token = await platform.token({ sub: 'explorer', workspaces: [WS] });
  const registered = await platform.registerColorModel(WS, token, { name: 'explorer-colors' });
  modelId = registered.modelId;
  const version = registered.version;
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

/**
 * Types the token and waits until GraphiQL, re-mounted with it, has loaded the schema with it: before that the
 * editor on the page may still be the one about to be replaced.
 */
async function useToken(page: Page): Promise<void> {
  const schemaLoaded = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.status() === 200 && (r.request().postData() ?? '').includes('IntrospectionQuery'));
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await schemaLoaded;
}

describe('GraphQL explorer at /graphql', () => {
  it('runs a query with the token typed into its token field, loading nothing from off the platform', { timeout: 45_000 }, async () => {
    const { page, offsite, problems, close } = await openPage();
    try {
      const res = await page.goto(`${platform.url}/graphql`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
      await useToken(page);
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

  it('runs a subscription over graphql-ws with the same token and shows a status change as it happens', { timeout: 45_000 }, async () => {
    const { page, offsite, problems, close } = await openPage();
    try {
      // The subscription is live once the server has the `subscribe` message; until then an event could pass unseen.
      const subscribed = new Promise<void>((resolve) => {
        page.on('websocket', (ws) => ws.on('framesent', (frame) => String(frame.payload).includes('"subscribe"') && resolve()));
      });
      await page.goto(`${platform.url}/graphql`);
      await useToken(page);
      const editor = '.graphiql-query-editor .CodeMirror';
      await page.waitForSelector(editor);
      const subscription = `subscription { inferenceServiceStatusChanged(workspaceId: ${WS}) { serviceId status } }`;
      await page.evaluate(([sel, text]) => (globalThis as unknown as PageDom).document.querySelector(sel!)?.CodeMirror?.setValue(text!), [editor, subscription]);
      // GraphiQL decides WebSocket or HTTP from the parsed document, which it refreshes 500 ms after an edit (when it
      // also stores the tab): running before that would send the previous document. A user typing never sees it.
      await page.waitForFunction(() =>
        Object.values((globalThis as unknown as { localStorage: Record<string, string> }).localStorage).some((v) => v.includes('inferenceServiceStatusChanged')),
      );
      await page.click('.graphiql-execute-button');
      await subscribed;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = await fetch(`${platform.url}/api/v1/inference/services`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'explorer live', workspace_id: WS, model_id: modelId, model_version: 'v1.0', memory: 268435456 }),
      });
      const id = ((await created.json()) as { data: { service_id: string } }).data.service_id;
      await page.waitForFunction(
        ([sel, want]) => ((globalThis as unknown as PageDom).document.querySelector(sel!)?.CodeMirror?.getValue() ?? '').includes(want!),
        ['.graphiql-response .CodeMirror', id],
      );
      const shown = JSON.parse(await editorText(page, '.graphiql-response .CodeMirror')) as { data: { inferenceServiceStatusChanged: { serviceId: string; status: string } } };
      expect(shown.data.inferenceServiceStatusChanged.serviceId).toBe(id);
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
    const body = (await res.json()) as { data: { inferenceServices: { items: { id: string }[] } } };
    expect(body.data.inferenceServices.items).toContainEqual({ id: serviceId });
  });
});

describe('API reference at /docs', () => {
  it('renders the OpenAPI document with its operations, offline, and "Try it out" calls the platform with the token', { timeout: 45_000 }, async () => {
    const { page, offsite, problems, close } = await openPage();
    try {
      page.setDefaultTimeout(15_000);
      const res = await page.goto(`${platform.url}/docs`);
      expect(res?.status()).toBe(200);
      await page.waitForSelector('.swagger-ui .info .title');
      expect(await page.textContent('.swagger-ui .info .title')).toContain('RemoteGPU Inference');
      await page.waitForSelector('.opblock-summary-path[data-path="/api/v1/inference/services/{id}/predict"]');
      // "Authorize" with the token, then "Try it out" on the list route: the call goes to this platform and answers.
      await page.click('.scheme-container .btn.authorize');
      const scheme = page.locator('.modal-ux form').filter({ hasText: 'bearerAuth' });
      await scheme.locator('input').fill(token);
      await scheme.locator('button.authorize').click();
      await page.locator('.modal-ux .btn-done').first().click();
      await page.click('#operations-Inference_services-listServices .opblock-summary');
      await page.click('#operations-Inference_services-listServices .try-out__btn');
      const called = page.waitForResponse((r) => r.url().startsWith(`${platform.url}/api/v1/inference/services`) && r.request().method() === 'GET');
      await page.click('#operations-Inference_services-listServices .execute');
      const answer = await called;
      expect(answer.status()).toBe(200);
      expect(((await answer.json()) as { data: { items: { service_id: string }[] } }).data.items.map((i) => i.service_id)).toContain(serviceId);
      expect(offsite).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
