import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { isAppError, retryAfterSeconds, type AppError, type InferenceService, type Language } from '@remotegpu/core';
import { createRouterPredictor, type RouterPredictor } from '@remotegpu/gateway';
import { backendPool, deadEndpoint, sendJson, startHarness, type Harness } from '../../services/router/test/router.harness.js';

/**
 * The gateway's Predictor over HTTP against a real router (createRouter on a real port, SQLite, real replicas
 * played by node:http servers): every outcome must be the AppError the in-process router throws, so REST and
 * GraphQL predict answer alike in both modes. And what only the HTTP hop can do wrong: no router, a router that
 * never answers, a kept-alive connection closed under the client.
 */

const classifier = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
  const request = JSON.parse(body.toString()) as { inputs: { image: string }; parameters?: { top_k?: number } };
  if (request.inputs.image === 'broken') {
    const english = req.headers['accept-language'] === 'en';
    sendJson(res, 400, {
      code: 40000,
      message: english ? 'The image could not be decoded' : '图片无法解码',
      data: { errors: [{ field: 'inputs.image', message: english ? 'not an image' : '不是图片' }] },
    });
    return;
  }
  const all = [
    { class: 'red', confidence: 0.7 },
    { class: 'green', confidence: 0.2 },
    { class: 'blue', confidence: 0.1 },
  ];
  sendJson(res, 200, { code: 0, message: 'success', data: { predictions: all.slice(0, request.parameters?.top_k ?? 5) } });
};

/** What a user sees of an error, in one language: the REST envelope's code, message, fields, Retry-After, reason. */
function seen(error: AppError, language: Language) {
  return {
    code: error.code,
    message: error.localized[language],
    fields: error.fields.map((f) => ({ field: f.field, message: f.message[language] })),
    retryAfter: retryAfterSeconds(error),
    reason: error.reason,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAppError(outcome)) throw new Error(`expected an AppError, got ${String(outcome)}`);
  return outcome;
}

const silent = pino({ level: 'silent' });

describe('gateway → router over HTTP (distributed predict)', () => {
  let h: Harness | undefined;
  let client: RouterPredictor | undefined;
  const pool = backendPool();
  const servers: Server[] = [];

  afterEach(async () => {
    client?.close();
    await h?.close();
    await pool.closeAll();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    h = undefined;
  });

  const connect = (url: string, timeoutMs = 5_000): RouterPredictor =>
    (client = createRouterPredictor({ routerUrl: url, timeoutMs, connectTimeoutMs: 1_000, logger: silent }));

  /** Both predictors, the same call: the in-process router's outcome and the HTTP client's must match. */
  async function both(service: InferenceService, image: string, language: Language, topK?: number) {
    const token = await h!.token();
    const call = { language, requestId: 'req-parity-1', authorization: `Bearer ${token}` };
    const local = h!.router.predictor.predict(service, { image, topK }, call);
    const remote = client!.predict(service, { image, topK }, call);
    return { local, remote };
  }

  it('returns the same predictions and the same errors, word for word, in both languages', async () => {
    h = await startHarness({ requestTimeoutMs: 800 });
    connect(h.url);
    const replica = await pool.start(classifier);
    const slow = await pool.start(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      sendJson(res, 200, { code: 0, data: { predictions: [] } });
    });
    const running = await h.service([replica.endpoint()]);
    const stopped = await h.service([replica.endpoint()], { status: 'stopped' });
    const empty = await h.service([]);
    const unreachable = await h.service([await deadEndpoint('a'), await deadEndpoint('b')]);
    const timingOut = await h.service([slow.endpoint()]);

    const ok = await both(running, 'aGk=', 'en', 2);
    expect(await ok.remote).toEqual(await ok.local);
    expect(await ok.remote).toEqual([
      { class: 'red', confidence: 0.7 },
      { class: 'green', confidence: 0.2 },
    ]);

    const cases: [InferenceService, string, Record<string, unknown>][] = [
      [running, 'broken', { code: 40000, fields: [{ field: 'inputs.image' }] }],
      [stopped, 'aGk=', { code: 40900 }],
      [empty, 'aGk=', { code: 50300, retryAfter: 1 }],
      [unreachable, 'aGk=', { code: 50300, retryAfter: 1 }],
      [timingOut, 'aGk=', { code: 50400, reason: 'upstream_timeout' }],
    ];
    for (const [service, image, expected] of cases) {
      for (const language of ['zh', 'en'] as const) {
        const { local, remote } = await both(service, image, language);
        const [l, r] = await Promise.all([rejection(local), rejection(remote)]);
        expect(seen(r, language), `${service.status} ${image} ${language}`).toEqual(seen(l, language));
        expect(seen(r, language)).toMatchObject({ ...expected, fields: expected.fields ? [expect.objectContaining((expected.fields as object[])[0])] : [] });
      }
    }
    const again = await both(stopped, 'aGk=', 'en');
    await rejection(again.local); // both sides are awaited: an unobserved rejection would fail the run
    expect(seen(await rejection(again.remote), 'en').message).toMatch(/start/);
  });

  it('reports an overloaded service as 429 with its reason and Retry-After, as the in-process router does', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1, maxQueuePerService: 0 });
    connect(h.url);
    const slow = await pool.start(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      sendJson(res, 200, { code: 0, data: { predictions: [{ class: 'red', confidence: 1 }] } });
    });
    const service = await h.service([slow.endpoint()]);
    const token = await h.token();
    const busy = client!.predict(service, { image: 'aGk=' }, { authorization: `Bearer ${token}` });
    // The one slot is taken once the replica holds that request.
    for (const deadline = Date.now() + 5_000; slow.active < 1; ) {
      if (Date.now() > deadline) throw new Error('the first request never reached the replica');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const l = await rejection(h.router.predictor.predict(service, { image: 'aGk=' }, { language: 'en' }));
    const r = await rejection(client!.predict(service, { image: 'aGk=' }, { language: 'en', authorization: `Bearer ${token}` }));
    expect(seen(r, 'en')).toEqual(seen(l, 'en'));
    expect(seen(r, 'en')).toMatchObject({ code: 42900, reason: 'queue_full', retryAfter: expect.any(Number) });
    expect(await busy).toEqual([{ class: 'red', confidence: 1 }]);
  });

  it('sends the caller’s own token, so the router enforces tenancy too', async () => {
    h = await startHarness();
    connect(h.url);
    const service = await h.service([(await pool.start(classifier)).endpoint()], { workspaceId: 1 });
    const outsider = await h.token({ workspaces: [2] });
    expect((await rejection(client!.predict(service, { image: 'aGk=' }, { authorization: `Bearer ${outsider}` }))).code).toBe(40400);
    expect((await rejection(client!.predict(service, { image: 'aGk=' }, {}))).code).toBe(40100);
  });

  it('answers 503 with Retry-After at once when no router listens', async () => {
    const port = await closedPort();
    connect(`http://127.0.0.1:${port}`);
    const started = Date.now();
    const error = await rejection(client!.predict(await fakeService(), { image: 'aGk=' }, { language: 'en' }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen(error, 'en')).toEqual({
      code: 50300,
      message: 'The inference router could not be reached; retry later',
      fields: [],
      retryAfter: 1,
      reason: 'router_unreachable',
    });
    expect(error.localized.zh).toBe('推理路由暂时无法连接，请稍后重试');
  });

  it('gives up on a router that never answers after its timeout (504), not never', async () => {
    const server = await listen(() => undefined); // accepts, reads, never answers
    connect(urlOf(server), 400);
    const started = Date.now();
    const error = await rejection(client!.predict(await fakeService(), { image: 'aGk=' }, { language: 'en' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen(error, 'en')).toMatchObject({ code: 50400, reason: 'router_timeout', message: 'The inference router did not answer within 400 ms' });
  });

  it('keeps connections alive, and resends once on a fresh one when the router closed an idle one under it', async () => {
    const connections = new Set<Socket>();
    let served = 0;
    const server = await listen((req, res) => {
      served += 1;
      // Every third request: the router closes the kept-alive connection instead of answering (its idle timeout
      // firing just as the request arrives). Nothing was processed, so the client may send it again.
      if (served % 3 === 0) {
        req.socket.destroy();
        return;
      }
      sendJson(res, 200, { code: 0, message: 'success', data: { predictions: [{ class: 'red', confidence: 1 }] } });
    });
    server.on('connection', (socket: Socket) => connections.add(socket));
    connect(urlOf(server));
    const service = await fakeService();
    for (let i = 0; i < 8; i++) expect(await client!.predict(service, { image: 'aGk=' })).toEqual([{ class: 'red', confidence: 1 }]);
    // 8 predictions, 3 connections cut: one fresh connection per cut, never one per request.
    expect(connections.size).toBeLessThanOrEqual(4);
    expect(served).toBe(11);
  });

  it('says 503 (not 500) when a load balancer in front of the routers answers 502/503/504 without our envelope', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    connect(urlOf(server));
    expect(seen(await rejection(client!.predict(await fakeService(), { image: 'aGk=' }, { language: 'en' })), 'en')).toMatchObject({ code: 50300, retryAfter: 1 });
  });

  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
    const server = createServer((req, res) => {
      req.resume();
      req.once('end', () => handler(req, res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return server;
  }
});

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function fakeService(): Promise<InferenceService> {
  const { serviceFixture } = await import('@remotegpu/store/contract');
  return { ...serviceFixture(), version: 1 };
}
