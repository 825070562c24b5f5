import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@remotegpu/auth';
import { openSqliteStore } from '@remotegpu/store';
import { tempDir, trickleBody, trickleHeaders, type TempDir } from '@remotegpu/testkit';
import { delay, echo, startBackend, storeService, type Backend } from './router.harness.js';

/**
 * The router's own process (`node services/router/dist/main.js`) cuts off clients that send too slowly
 * (RGPU_HTTP_*; short limits here to keep the test fast), on the data plane and its probes alike, and keeps
 * proxying everyone else meanwhile.
 */
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const SECRET = 'router-slow-secret-0123456789-abcdefghijkl';

let dir: TempDir;
let backend: Backend;
let router: ChildProcess;
let url: string;
let serviceId: string;
let token: string;
let output = '';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await tempDir('rgpu-router-slow-');
  backend = await startBackend(echo);
  const store = openSqliteStore({ path: path.join(dir.path, 'rgpu.db') });
  serviceId = (await storeService(store, [backend.endpoint()])).id;
  await store.close();
  token = await signToken(SECRET, { sub: 'alice', workspaces: [1], ttlSeconds: 3600 });

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  router = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      ROUTER_PORT: String(port),
      RGPU_DATA_DIR: dir.path,
      RGPU_JWT_SECRET: SECRET,
      RGPU_LOG_LEVEL: 'warn',
      RGPU_HTTP_HEADERS_TIMEOUT_MS: '1000',
      RGPU_HTTP_BODY_TIMEOUT_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  router.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  router.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/healthz`).then((r) => r.status, () => 0)) === 200) break;
    if (i > 400 || router.exitCode !== null) throw new Error(`router did not start:\n${output}`);
    await delay(50);
  }
});

afterAll(async () => {
  router?.kill('SIGKILL');
  await backend?.close();
  await dir?.cleanup();
});

describe('router process: slow clients', () => {
  it('answers 408 to trickled headers and to a trickled predict body within the limit, proxying others meanwhile', async () => {
    const slow = { intervalMs: 200, giveUpAfterMs: 10_000 };
    const predictPath = `/inference/${serviceId}/predict`;
    const headers = trickleHeaders(url, { ...slow, path: predictPath });
    const body = trickleBody(url, { ...slow, path: predictPath, headers: { authorization: `Bearer ${token}` } });

    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await fetch(`${url}${predictPath}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ n: i }),
      });
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
    }

    for (const outcome of [await headers, await body]) {
      expect(outcome).toMatchObject({ closedByServer: true, status: 408 });
      // 1 s limit, checked every 250 ms; generous for a loaded machine, far below the minutes it took before.
      expect(outcome.elapsedMs).toBeGreaterThanOrEqual(900);
      expect(outcome.elapsedMs).toBeLessThan(5000);
    }
    // The trickled body never reached the replica: only the three whole requests did.
    expect(backend.hits).toBe(3);
  });
});
