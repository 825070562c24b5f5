import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '@remotegpu/auth';
import { delay, echo, eventually, postJson, SECRET, backendPool, startHarness, type Backend, type Harness } from './router.harness.js';

describe('router admission: auth, visibility, status, limits', () => {
  let h: Harness;
  const pool = backendPool();
  const backend = pool.start;

  afterEach(async () => {
    await h?.close();
    await pool.closeAll();
  });

  it('401 without a token, with a bad one and with an expired one; the replica never sees them', async () => {
    h = await startHarness();
    const replica = await backend(echo);
    const svc = await h.service([replica.endpoint()]);
    const url = h.predictUrl(svc.id);

    const missing = await postJson(h, url, {}, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const body = ((await missing.json()) as any);
    expect(body.code).toBe(40100);
    expect(body.message).toMatch(/访问令牌/);

    const english = await postJson(h, url, {}, { token: null, headers: { 'accept-language': 'en-US,en;q=0.9' } });
    expect((((await english.json()) as any)).message).toMatch(/Authorization: Bearer/);

    const forged = await signToken('another-secret-of-at-least-32-bytes!!', { sub: 'eve', workspaces: [1], ttlSeconds: 3600 });
    expect((await postJson(h, url, {}, { token: forged })).status).toBe(401);
    const expired = await signToken(SECRET, { sub: 'alice', workspaces: [1], ttlSeconds: -60 });
    expect((await postJson(h, url, {}, { token: expired })).status).toBe(401);
    expect(replica.hits).toBe(0);
  });

  it('404 for an unknown id and for another workspace’s service; admins see every workspace', async () => {
    h = await startHarness();
    const replica = await backend(echo);
    const svc = await h.service([replica.endpoint()], { workspaceId: 7 });

    const unknown = await postJson(h, h.predictUrl('svc-doesnotexist00'), {});
    expect(unknown.status).toBe(404);
    expect((((await unknown.json()) as any)).code).toBe(40400);

    const outsider = await postJson(h, h.predictUrl(svc.id), {}, { token: await h.token({ workspaces: [1, 2] }) });
    expect(outsider.status).toBe(404);
    expect((((await outsider.json()) as any)).code).toBe(40400);

    expect((await postJson(h, h.predictUrl(svc.id), {}, { token: await h.token({ workspaces: [7] }) })).status).toBe(200);
    expect((await postJson(h, h.predictUrl(svc.id), {}, { token: await h.token({ workspaces: [], admin: true }) })).status).toBe(200);
    expect(replica.hits).toBe(2);
  });

  it('404 for paths under a service that are neither predict nor v2; 405 with Allow for GET on predict', async () => {
    h = await startHarness();
    const replica = await backend(echo);
    const svc = await h.service([replica.endpoint()]);
    expect((await h.request(`/inference/${svc.id}/admin`)).status).toBe(404);
    const get = await h.request(`/inference/${svc.id}/predict`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await h.request(`/inference/${svc.id}`)).status).toBe(404);
    // fetch would normalise the dot segments away; a raw client sends them as written.
    for (const path of [`/inference/${svc.id}/v2/%2e%2e/admin`, `/inference/${svc.id}/v2/../admin`]) {
      expect(await rawStatus(h.url, path, await h.token())).toBe(400);
    }
    expect(replica.hits).toBe(0);
  });

  it('409 on a stopped, stopping or failed service', async () => {
    h = await startHarness();
    const replica = await backend(echo);
    for (const status of ['stopped', 'stopping', 'failed'] as const) {
      const svc = await h.service(status === 'stopping' ? [replica.endpoint()] : [], { status });
      const res = await postJson(h, h.predictUrl(svc.id), {});
      expect(res.status).toBe(409);
      const body = ((await res.json()) as any);
      expect(body.code).toBe(40900);
      expect(body.message).toContain(status);
    }
    expect(replica.hits).toBe(0);
  });

  it('503 with Retry-After when no replica is ready yet', async () => {
    h = await startHarness();
    const creating = await h.service([], { status: 'creating' });
    const res = await postJson(h, h.predictUrl(creating.id), {}, { headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = ((await res.json()) as any);
    expect(body).toEqual({ code: 50300, message: expect.stringMatching(/no ready replica/) });
  });

  it('413 for a body over maxBodyBytes, declared or streamed', async () => {
    h = await startHarness({ maxBodyBytes: 1024 });
    const replica = await backend(echo);
    const svc = await h.service([replica.endpoint()]);
    const big = await h.request(h.predictUrl(svc.id), { method: 'POST', body: 'x'.repeat(2048) });
    expect(big.status).toBe(413);
    expect((((await big.json()) as any)).code).toBe(41300);

    // No Content-Length: the limit is enforced while reading.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(512)));
        controller.close();
      },
    });
    const streamed = await h.request(h.predictUrl(svc.id), { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await h.request(h.predictUrl(svc.id), { method: 'POST', body: 'x'.repeat(1000) })).status).toBe(200);
    expect(replica.hits).toBe(1);
  });

  it('queues past maxInFlightPerReplica in FIFO order and answers 429 with Retry-After past the queue', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1, maxQueuePerService: 2 });
    const order: string[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const replica = await backend(async (req, res, body) => {
      order.push(JSON.parse(body.toString()).n);
      await gate;
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const send = (n: string): Promise<Response> => postJson(h, h.predictUrl(svc.id), { n });

    const first = send('first');
    await eventually(() => replica.hits === 1);
    const second = send('second');
    await eventually(async () => (await h.gauge('rgpu_router_queue_depth', svc.id)) === 1);
    const third = send('third');
    await eventually(async () => (await h.gauge('rgpu_router_queue_depth', svc.id)) === 2);

    const rejected = await send('fourth');
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect((((await rejected.json()) as any)).code).toBe(42900);
    expect(replica.maxActive).toBe(1);

    open();
    expect((await Promise.all([first, second, third])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(order).toEqual(['first', 'second', 'third']);
    expect(replica.maxActive).toBe(1);
    expect(await h.gauge('rgpu_router_queue_depth', svc.id)).toBe(0);
  });

  it('504 when the replica does not answer in time, and the slot is free again afterwards', async () => {
    h = await startHarness({ requestTimeoutMs: 200, maxInFlightPerReplica: 1, ejectAfterFailures: 10 });
    let slow = true;
    const replica = await backend(async (req, res, body) => {
      if (slow) await delay(1500);
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const started = Date.now();
    const res = await postJson(h, h.predictUrl(svc.id), {});
    expect(res.status).toBe(504);
    expect((((await res.json()) as any)).code).toBe(50400);
    expect(Date.now() - started).toBeLessThan(1000);

    slow = false;
    expect((await postJson(h, h.predictUrl(svc.id), {})).status).toBe(200);
  });

  it('a request waiting in the queue times out with 504 too', async () => {
    h = await startHarness({ requestTimeoutMs: 300, maxInFlightPerReplica: 1 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const replica = await backend(async (req, res, body) => {
      await gate;
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const first = postJson(h, h.predictUrl(svc.id), {});
    await eventually(() => replica.hits === 1);
    const queued = await postJson(h, h.predictUrl(svc.id), {});
    expect(queued.status).toBe(504);
    expect(await h.gauge('rgpu_router_queue_depth', svc.id)).toBe(0);
    open();
    expect((await first).status).toBe(504);
  });

  it('a client that goes away frees its replica slot at once', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1 });
    let hang = true;
    const replica = await backend(async (req, res, body) => {
      if (hang) return; // never answers
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const abort = new AbortController();
    const abandoned = postJson(h, h.predictUrl(svc.id), {}, { signal: abort.signal }).catch((err: unknown) => err);
    await eventually(() => replica.hits === 1);
    abort.abort();
    await abandoned;
    // The router cut its upstream request too: the replica sees its connection close.
    await eventually(() => replica.active === 0);
    hang = false;
    expect((await postJson(h, h.predictUrl(svc.id), {})).status).toBe(200);
  });
});

function rawStatus(base: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ host: hostname, port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
