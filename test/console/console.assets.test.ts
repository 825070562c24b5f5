import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes, defaultConsoleDir } from '../../services/gateway/src/console/console.routes.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/** How the gateway serves the console's built files (`npm run build` has run before the tests). */
describe('console assets served by the gateway', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('/console redirects to /console/, whose page needs no token, is revalidated and keeps to its own origin', async () => {
    const redirect = await fetch(`${platform.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');
    const page = await fetch(`${platform.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toMatch(/<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js">/);
    expect(html).not.toMatch(/https?:\/\//); // nothing loaded from elsewhere
  });

  it('hashed assets are cached for a year; an unknown one is the API 404 envelope; the API still wants a token', async () => {
    const assets = await readdir(path.join(defaultConsoleDir(), 'assets'));
    const js = assets.find((f) => f.endsWith('.js'))!;
    const res = await fetch(`${platform.url}/console/assets/${js}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${platform.url}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: number }).code).toBe(40400);
    expect((await fetch(`${platform.url}/api/v1/inference/services`)).status).toBe(401);
  });

  it('without a build, /console/ says how to build it (503) instead of a bare 404', async () => {
    const app = express().use(consoleRoutes(path.join(platform.dataDir, 'no-console-here')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/console/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      server.close();
    }
  });
});
