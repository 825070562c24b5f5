import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, solidImage, tempDir, trickleBody, trickleHeaders, type TempDir } from '@remotegpu/testkit';
import { imageBody, modelEnv, postJson, startModelServer, type ModelServerProcess } from './spawn.js';

/**
 * A replica cuts off clients that send too slowly (RGPU_HTTP_*; short limits here to keep the test fast), as the
 * gateway and the router do, and keeps serving everyone else meanwhile.
 */
let dir: TempDir;
let server: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-slow-');
  const env = await modelEnv(dir.path, 'color.onnx', colorClassifierOnnx({ height: 16, width: 16 }), {
    RGPU_HTTP_HEADERS_TIMEOUT_MS: '1000',
    RGPU_HTTP_BODY_TIMEOUT_MS: '1000',
  });
  server = await startModelServer({ env });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await dir?.cleanup();
});

describe('model server: slow clients', () => {
  it('answers 408 to trickled headers and to a trickled predict body within the limit, serving predictions meanwhile', async () => {
    const slow = { intervalMs: 200, giveUpAfterMs: 10_000 };
    const headers = trickleHeaders(server.url, { ...slow, path: '/v2/health/ready' });
    const body = trickleBody(server.url, { ...slow, path: '/predict' });

    const image = imageBody(await solidImage('green', { format: 'png', width: 16, height: 16 }));
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await postJson(`${server.url}/predict`, image);
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
    }

    for (const outcome of [await headers, await body]) {
      expect(outcome).toMatchObject({ closedByServer: true, status: 408 });
      // 1 s limit, checked every 250 ms; generous for a loaded machine, far below the minutes it took before.
      expect(outcome.elapsedMs).toBeGreaterThanOrEqual(900);
      expect(outcome.elapsedMs).toBeLessThan(5000);
    }
  });
});
