import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trickleBody, trickleHeaders } from '@remotegpu/testkit';
import { applyHttpTimeouts, HTTP_TIMEOUT_DEFAULTS } from './server.timeouts.js';
import { httpTimeoutsFromEnv } from './server.timeouts.env.js';

/** The timeouts on a real node:http server, against raw-socket clients that send too slowly. */

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Echoes the body length once it has all arrived; `stallMs` makes the handler start reading late. */
async function serve(timeouts: Parameters<typeof applyHttpTimeouts>[1], stallMs = 0): Promise<string> {
  server = createServer((req, res) => {
    void delay(stallMs).then(() => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ length }));
      });
    });
  });
  applyHttpTimeouts(server, timeouts);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An honest upload: `total` bytes in chunks of `chunk` every `everyMs`. */
async function steadyUpload(url: string, total: number, chunk: number, everyMs: number): Promise<number> {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let sent = 0; sent < total; sent += chunk) {
        controller.enqueue(new Uint8Array(Math.min(chunk, total - sent)));
        await delay(everyMs);
      }
      controller.close();
    },
  });
  const res = await fetch(url, { method: 'POST', body, duplex: 'half' } as RequestInit);
  expect(res.status).toBe(200);
  return ((await res.json()) as { length: number }).length;
}

describe('applyHttpTimeouts', () => {
  it('answers 408 to trickled headers and to a trickled body within the limits, while serving others', async () => {
    const url = await serve({ headersTimeoutMs: 1000, bodyTimeoutMs: 1000, bodyMinBytesPerSecond: 1024 });
    const slowHeaders = trickleHeaders(url, { intervalMs: 200, giveUpAfterMs: 8000 });
    const slowBody = trickleBody(url, { intervalMs: 200, giveUpAfterMs: 8000 });
    // Meanwhile the server answers a normal client at once.
    const started = performance.now();
    const normal = await fetch(url, { method: 'POST', body: '{"a":1}' });
    expect(normal.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(500);

    for (const outcome of [await slowHeaders, await slowBody]) {
      expect(outcome.closedByServer).toBe(true);
      expect(outcome.status).toBe(408);
      expect(outcome.elapsedMs).toBeGreaterThanOrEqual(900);
      expect(outcome.elapsedMs).toBeLessThan(3000);
    }
  });

  it('cuts a body that stalls even after a fast start (no byte for bodyTimeoutMs)', async () => {
    const url = await serve({ headersTimeoutMs: 1000, bodyTimeoutMs: 800, bodyMinBytesPerSecond: 1 });
    // One byte every 5 s: the average rate (1 B/s allowed) would let it live for minutes; the stall does not.
    const outcome = await trickleBody(url, { intervalMs: 5000, giveUpAfterMs: 4000 });
    expect(outcome).toMatchObject({ closedByServer: true, status: 408 });
    expect(outcome.elapsedMs).toBeLessThan(2500);
  });

  it('lets a slow but steady upload run far past bodyTimeoutMs, as long as it keeps the minimum rate', async () => {
    const url = await serve({ headersTimeoutMs: 1000, bodyTimeoutMs: 500, bodyMinBytesPerSecond: 1024 });
    // ~8 KiB/s for about 2.5 s: five times the body timeout, eight times the minimum rate.
    expect(await steadyUpload(url, 20 * 1024, 1024, 120)).toBe(20 * 1024);
  });

  it('does not blame the client while the handler is not reading (backpressure)', async () => {
    // The handler starts reading only after 1.5 s, three times the body timeout; the client sent everything at once.
    const url = await serve({ headersTimeoutMs: 1000, bodyTimeoutMs: 500, bodyMinBytesPerSecond: 1024 }, 1500);
    const res = await fetch(url, { method: 'POST', body: new Uint8Array(4 * 1024 * 1024) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { length: number }).length).toBe(4 * 1024 * 1024);
  });

  it('has the documented defaults and refuses nonsense', () => {
    const s = createServer();
    expect(applyHttpTimeouts(s)).toEqual(HTTP_TIMEOUT_DEFAULTS);
    expect(s.headersTimeout).toBe(10_000);
    expect(s.requestTimeout).toBe(0);
    expect(s.keepAliveTimeout).toBe(65_000);
    expect(() => applyHttpTimeouts(createServer(), { bodyTimeoutMs: 0 })).toThrow(/bodyTimeoutMs/);
  });
});

describe('httpTimeoutsFromEnv', () => {
  it('reads the four variables, defaults the rest, and names every bad one', () => {
    expect(httpTimeoutsFromEnv({}).timeouts).toEqual(HTTP_TIMEOUT_DEFAULTS);
    expect(httpTimeoutsFromEnv({ RGPU_HTTP_HEADERS_TIMEOUT_MS: '2000', RGPU_HTTP_BODY_TIMEOUT_MS: '' }).timeouts).toEqual({
      ...HTTP_TIMEOUT_DEFAULTS,
      headersTimeoutMs: 2000,
    });
    const { problems } = httpTimeoutsFromEnv({ RGPU_HTTP_BODY_TIMEOUT_MS: '0', RGPU_HTTP_BODY_MIN_BYTES_PER_S: 'fast' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/RGPU_HTTP_BODY_TIMEOUT_MS[\s\S]*RGPU_HTTP_BODY_MIN_BYTES_PER_S/);
  });
});
