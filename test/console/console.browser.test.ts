import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { colorClassifierOnnx, signToken, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const WS = 456;
const ROOT = path.resolve(import.meta.dirname, '../..');
/** Every run keeps its screenshots under .tmp/; RGPU_UPDATE_SCREENSHOTS=1 also refreshes the committed docs/console. */
const SHOT_DIRS = [path.join(ROOT, '.tmp/console-screenshots'), ...(process.env.RGPU_UPDATE_SCREENSHOTS === '1' ? [path.join(ROOT, 'docs/console')] : [])];

async function shot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  for (const dir of name === 'failure' ? SHOT_DIRS.slice(0, 1) : SHOT_DIRS) {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.png`), png);
  }
}

/**
 * The console in Debian's chromium against the real platform (SQLite, real replicas, real graphql-ws): what a user
 * does, checked by what they see. The page is never reloaded after sign-in (a marker on window must survive), so
 * status and replica changes can only arrive through the subscription.
 */
describe('web console in chromium (real platform)', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let files: TempDir;
  let modelFile: string;
  let redFile: string;

  beforeAll(async () => {
    [platform, browser, files] = await Promise.all([startTestPlatform(), launchBrowser(), tempDir('rgpu-console-')]);
    modelFile = path.join(files.path, 'colours.onnx');
    redFile = path.join(files.path, 'red.png');
    await writeFile(modelFile, colorClassifierOnnx());
    await writeFile(redFile, await solidImage('red', { format: 'png', width: 32, height: 24 }));
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await files?.cleanup();
  });

  /** Steps fail after 10 s with what the page showed (saved as failure.png), not at the 30 s test timeout. */
  async function newPage(): Promise<Page> {
    const page = await browser.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    onTestFailed(() => shot(page, 'failure'));
    return page;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${platform.url}/console/`);
    await page.locator('#token').fill(token);
    await page.locator('form.signin button[type=submit]').click();
    await page.locator('#services-title').waitFor();
    // Strings, not functions: the root type-check has no DOM library.
    await page.evaluate('window.__noReload = true');
  }

  async function notReloaded(page: Page): Promise<boolean> {
    return (await page.evaluate('window.__noReload === true')) === true;
  }

  it('signs in (401 told clearly), registers and uploads a model, creates, watches, predicts, reads and follows logs, scales, filters, stops and deletes — in Chinese', async () => {
    const page = await newPage();
    await page.goto(`${platform.url}/console/`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByLabel('访问令牌').fill('not-a-token');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.locator('form.signin [role=alert]').textContent()).toContain('令牌无效或已过期（401）');
    await shot(page, 'signin');
    expect(await page.evaluate("sessionStorage.getItem('rgpu.token')")).toBeNull();

    const token = await platform.token({ sub: 'console', workspaces: [WS] });
    await signIn(page, token);
    expect(await page.evaluate("sessionStorage.getItem('rgpu.token')")).toBe(token);

    // Models: register, then upload a version by file picker; the page shows what the API read from the graph.
    await page.getByRole('link', { name: '模型' }).click();
    await page.locator('#m-name').fill('colours');
    await page.locator('#m-framework').selectOption('onnx');
    await page.getByRole('button', { name: '注册模型' }).click();
    await page.locator('#u-file').setInputFiles(modelFile);
    await page.locator('#u-labels').fill('red\ngreen\nblue');
    await page.locator('form.upload button[type=submit]').click();
    const version = page.locator('dl.version[data-version="v1.0"]');
    await version.waitFor();
    expect(await version.locator('[data-sha256]').textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await version.textContent()).toContain('red, green, blue');
    await shot(page, 'models');

    // Create: a field error from the API appears next to its field, then a valid service.
    await page.getByRole('link', { name: '推理服务' }).click();
    await page.getByRole('link', { name: '创建服务' }).click();
    await page.locator('#f-name').fill('colours-svc');
    await page.locator('#f-model_id').selectOption({ index: 1 }); // the only model: "colours (#1)"
    await expect.poll(() => page.locator('#f-model_version').inputValue()).toBe('v1.0');
    await page.locator('#f-memory').fill('0.01');
    await page.getByRole('button', { name: '提交' }).click();
    await page.locator('[data-field-error="f-memory"]').waitFor();
    await shot(page, 'create');
    await page.locator('#f-memory').fill('1');
    await page.getByRole('button', { name: '提交' }).click();

    // Detail: becomes running without a reload, predicts red first.
    const header = page.locator('.toolbar [data-status]').first();
    await expect.poll(() => header.getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    await page.locator('#predict-image').setInputFiles(redFile);
    await expect.poll(() => page.locator('.bars li').first().getAttribute('data-class')).toBe('red');

    // Logs: the replica's start line on refresh; following, a refused request made elsewhere shows up live.
    const logs = page.locator('.logs pre');
    await page.getByRole('button', { name: '刷新' }).click();
    await expect.poll(() => logs.textContent()).toContain('listening');
    await page.getByLabel('实时跟踪').check();
    const svcId = (await page.locator('section[data-service-id]').getAttribute('data-service-id'))!;
    await expect.poll(() => logs.textContent()).toContain('listening');
    const endpoint = (await page.locator('.spec code').nth(1).textContent())!;
    const refused = await fetch(`${endpoint}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: Buffer.from('not an image').toString('base64') } }),
    });
    expect(refused.status).toBe(400);
    await expect.poll(() => logs.textContent(), { timeout: 10_000 }).toContain('request refused');
    await page.getByLabel('实时跟踪').uncheck();
    expect(svcId).toMatch(/^svc-/);

    // Scale to 2: the PATCH answers "updating"; 2/2 can only come from the subscription.
    await page.locator('#scale-replicas').fill('2');
    await page.getByRole('button', { name: '扩缩容' }).click();
    await expect.poll(() => page.locator('.toolbar [data-ready]').textContent(), { timeout: 20_000 }).toBe('2/2');
    // The replicas table (found by its accessible name) shows both replicas ready, never restarted.
    const replicaRows = page.getByRole('table', { name: '副本状态' }).locator('tbody tr');
    await expect.poll(async () => (await replicaRows.allInnerTexts()).map((row) => row.split('\t').slice(1, 3).join(' ')), { timeout: 10_000 })
      .toEqual(['ready 0', 'ready 0']);
    expect(await notReloaded(page)).toBe(true);
    expect(await page.locator('.timeline li').count()).toBeGreaterThan(1);
    await shot(page, 'service');

    // The list follows a stop made elsewhere (REST) without reload.
    const id = (await page.locator('section[data-service-id]').getAttribute('data-service-id'))!;
    await page.getByRole('link', { name: '推理服务' }).click();
    const row = page.locator(`tr[data-service-id="${id}"]`);
    await expect.poll(() => row.locator('[data-ready]').textContent()).toBe('2/2');
    await shot(page, 'services');
    // Filters: a name that matches nothing empties the list, the status filter keeps the running service.
    await page.getByLabel('按名称筛选').fill('no-such-service');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('按名称筛选').fill('colours');
    await page.getByLabel('按状态筛选').selectOption('running');
    await expect.poll(() => row.count()).toBe(1);
    await page.getByLabel('按状态筛选').selectOption('');
    const stopped = await fetch(`${platform.url}/api/v1/inference/services/${id}/stop`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(stopped.status).toBe(200);
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('stopped');

    // Delete with confirmation.
    await row.getByRole('link').click();
    await page.getByRole('button', { name: '删除' }).click();
    await page.getByRole('button', { name: '确认' }).click();
    await page.locator('#services-title').waitFor();
    await expect.poll(() => row.count()).toBe(0);
    expect(await notReloaded(page)).toBe(true);
    await page.close();
  });

  it('the same journey in English, signed in by keyboard: the API answers in English too; the unused model is deleted', async () => {
    const page = await newPage();
    const token = await platform.token({ sub: 'console-en', workspaces: [WS] });
    await page.goto(`${platform.url}/console/`);
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    // By keyboard: from the language button, Tab reaches the token field; Enter submits.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('token');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.locator('#services-title').waitFor();

    await page.getByRole('link', { name: 'Create service' }).click();
    await page.locator('#f-name').fill('bad name!');
    await page.locator('#f-model_id').selectOption({ index: 1 });
    await page.getByRole('button', { name: 'Submit' }).click();
    const nameError = page.locator('[data-field-error="f-name"]');
    await nameError.waitFor();
    expect(await nameError.textContent()).toMatch(/[a-z]/i);
    expect(await nameError.textContent()).not.toMatch(/[\u4e00-\u9fff]/);
    await page.locator('#f-name').fill('colours-en');
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => page.locator('.toolbar [data-status]').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    await page.locator('#predict-image').setInputFiles(redFile);
    await expect.poll(() => page.locator('.bars li').first().getAttribute('data-class')).toBe('red');
    await shot(page, 'service-en');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('#services-title').waitFor();

    // The model, no longer used by a live service, can be deleted too.
    await page.getByRole('link', { name: 'Models' }).click();
    await page.locator('.model-list button').first().click();
    await page.locator('[data-model-id]').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('.model-list button').count()).toBe(0);
    await page.close();
  });

  it('a token that expires while the page is open signs out with the reason, without a click (socket closed 4403)', async () => {
    const page = await newPage();
    const token = await signToken(platform.secret, { sub: 'console-short', workspaces: [WS] }, { expiresInSeconds: 2 });
    await signIn(page, token);
    await page.locator('form.signin').waitFor({ timeout: 8_000 });
    expect(await page.locator('form.signin [role=alert]').textContent()).toContain('令牌无效或已过期');
    expect(await page.evaluate("sessionStorage.getItem('rgpu.token')")).toBeNull();
    await page.close();
  });
});
