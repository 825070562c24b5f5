import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, delay, echo, eventually, postJson, startHarness, type Harness } from './router.harness.js';

interface Timed {
  status: number;
  ms: number;
  retryAfter: string | null;
  code: number | null;
}

async function timedPost(h: Harness, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Timed> {
  const started = performance.now();
  const res = await postJson(h, path, body, { headers });
  const text = await res.text();
  const code = res.status === 200 ? null : ((JSON.parse(text) as { code?: number }).code ?? null);
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), code };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('router admission under a flood: queue with deadlines', () => {
  let h: Harness;
  const pool = backendPool();

  afterEach(async () => {
    await h?.close();
    await pool.closeAll();
  });

  it('a flood on a slow replica gets fast 429s with Retry-After, and what it admits is served within the budget', async () => {
    const budgetMs = 1000;
    const serviceMs = 100;
    h = await startHarness({ maxInFlightPerReplica: 2, queueBudgetMs: budgetMs });
    const replica = await pool.start(async (req, res, body) => {
      await delay(serviceMs);
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const url = h.predictUrl(svc.id);
    // A few answers first, so the router knows how long this replica takes.
    for (let i = 0; i < 4; i++) expect((await timedPost(h, url, { warm: i })).status).toBe(200);

    // 150 at once on 2 slots of 100 ms: the last in line would wait 7.5 s. Only about budget ÷ 50 ms fit.
    const flood = await Promise.all(Array.from({ length: 150 }, (_, n) => timedPost(h, url, { n }, { 'accept-language': 'en' })));
    const admitted = flood.filter((r) => r.status === 200);
    const refused = flood.filter((r) => r.status !== 200);

    expect(refused.every((r) => r.status === 429 && r.code === 42900)).toBe(true);
    expect(refused.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(100);
    expect(admitted.length).toBeGreaterThanOrEqual(10);
    // Generous bounds: an admitted request waits at most the budget, then its 100 ms on the replica.
    expect(Math.max(...admitted.map((r) => r.ms))).toBeLessThan(budgetMs + 1500);
    // Refused on arrival, not after waiting out the budget.
    expect(median(refused.map((r) => r.ms))).toBeLessThan(budgetMs);
    expect(replica.maxActive).toBeLessThanOrEqual(2);
    expect(await h.gauge('rgpu_router_queue_depth', svc.id)).toBe(0);
  });

  it('a request still waiting when its budget runs out is refused then with 429 + Retry-After, not served late', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1, queueBudgetMs: 300, requestTimeoutMs: 10_000 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const replica = await pool.start(async (req, res, body) => {
      await gate;
      echo(req, res, body);
    });
    const svc = await h.service([replica.endpoint()]);
    const url = h.predictUrl(svc.id);
    const first = timedPost(h, url, { n: 1 });
    await eventually(() => replica.hits === 1);

    const queued = await timedPost(h, url, { n: 2 }, { 'accept-language': 'en' });
    expect(queued.status).toBe(429);
    expect(queued.code).toBe(42900);
    expect(Number(queued.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(queued.ms).toBeGreaterThanOrEqual(250);
    expect(queued.ms).toBeLessThan(3000);
    expect(await h.gauge('rgpu_router_queue_depth', svc.id)).toBe(0);
    expect(replica.hits).toBe(1);

    open();
    expect((await first).status).toBe(200);
  });

  it('REST/GraphQL predict goes through the same admission', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1, queueBudgetMs: 200, requestTimeoutMs: 10_000 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const replica = await pool.start(async (req, res) => {
      await gate;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 0, data: { predictions: [{ class: 'red', confidence: 1 }] } }));
    });
    const svc = await h.service([replica.endpoint()]);
    const first = h.router.predictor.predict(svc, { image: 'x' });
    await eventually(() => replica.hits === 1);
    const started = Date.now();
    const refused = await h.router.predictor.predict(svc, { image: 'x' }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 42900, retryAfter: expect.any(Number) });
    expect(Date.now() - started).toBeLessThan(3000);
    open();
    await expect(first).resolves.toEqual([{ class: 'red', confidence: 1 }]);
  });
});
