import { afterEach, describe, expect, it } from 'vitest';
import { deadEndpoint, delay, echo, eventually, postJson, sendJson, backendPool, startHarness, type Backend, type Harness } from './router.harness.js';

describe('router balancing, retries and passive ejection', () => {
  let h: Harness;
  const pool = backendPool();
  const backend = pool.start;

  afterEach(async () => {
    await h?.close();
    await pool.closeAll();
  });

  /** `workers` clients, each sending `each` predictions one after another; returns the status codes. */
  async function load(serviceId: string, workers: number, each: number): Promise<number[]> {
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < each; i++) {
          const res = await postJson(h, h.predictUrl(serviceId), { inputs: { image: 'x' } });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    return statuses;
  }

  it('sends new requests to the replica with the fewest outstanding ones, and rotates between equals', async () => {
    h = await startHarness();
    const fast = await backend(echo);
    // Holds every request until released: a replica that has stopped answering quickly.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const stuck = await backend(async (req, res, body) => {
      await released;
      echo(req, res, body);
    });
    const svc = await h.service([fast.endpoint('fast'), stuck.endpoint('stuck')]);

    const done = load(svc.id, 4, 15);
    // Quiescence: the clients not waiting on the stuck replica have sent all their requests.
    let seen = -1;
    await eventually(async () => {
      const settled = fast.hits === seen && fast.hits >= 30;
      seen = fast.hits;
      await delay(50);
      return settled;
    }, 10_000);
    // 4 clients: a request goes to the stuck replica only while it has fewer outstanding than the fast one,
    // so it never holds more than 2 of them; round robin would have all 4 clients waiting on it.
    expect(stuck.hits).toBeLessThanOrEqual(2);
    expect(fast.hits).toBeGreaterThanOrEqual(60 - 2 * 15);
    release();
    expect((await done).every((s) => s === 200)).toBe(true);
    expect(fast.hits + stuck.hits).toBe(60);

    const twinA = await backend(echo);
    const twinB = await backend(echo);
    const twins = await h.service([twinA.endpoint('a'), twinB.endpoint('b')]);
    await load(twins.id, 1, 20);
    // Sequential requests always find both idle: the rotating tie-break alternates.
    expect(twinA.hits).toBe(10);
    expect(twinB.hits).toBe(10);
  });

  it('retries once on another replica when one refuses connections: no client sees a failure', async () => {
    h = await startHarness({ ejectAfterFailures: 100 });
    const good = await backend(echo);
    const svc = await h.service([await deadEndpoint('down'), good.endpoint('up')]);

    const statuses = await load(svc.id, 2, 10);
    expect(statuses).toEqual(Array(20).fill(200));
    expect(good.hits).toBe(20);
    const retries = (await h.metrics.getSingleMetric('rgpu_router_retries_total')!.get()).values;
    expect(retries.find((v) => v.labels.service === svc.id)?.value).toBeGreaterThan(0);
  });

  it('retries on another replica when one closes the socket before answering', async () => {
    h = await startHarness();
    const closer = await backend((req) => {
      req.socket.destroy();
    });
    const good = await backend(echo);
    const svc = await h.service([closer.endpoint('closer'), good.endpoint('good')]);

    const statuses = await load(svc.id, 1, 10);
    expect(statuses).toEqual(Array(10).fill(200));
    expect(closer.hits).toBeGreaterThan(0);
  });

  it('sends a request again elsewhere when a replica answers 503 (loading or draining)', async () => {
    h = await startHarness({ ejectAfterFailures: 100 });
    const draining = await backend((_req, res) => sendJson(res, 503, { code: 50300, message: 'draining' }));
    const good = await backend(echo);
    const svc = await h.service([draining.endpoint('draining'), good.endpoint('good')]);
    expect(await load(svc.id, 1, 10)).toEqual(Array(10).fill(200));
    expect(draining.hits).toBeGreaterThan(0);
  });

  it('resends on a fresh connection, without blaming the replica, when a reused keep-alive socket was closed', async () => {
    h = await startHarness({ ejectAfterFailures: 1 });
    // Kills the second request of every connection: the race of a replica closing an idle socket just as
    // the router reuses it.
    const perSocket = new WeakMap<object, number>();
    const picky = await backend((req, res, body) => {
      const seen = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, seen);
      if (seen > 1) req.socket.destroy();
      else echo(req, res, body);
    });
    const svc = await h.service([picky.endpoint('only')]);
    expect(await load(svc.id, 1, 6)).toEqual(Array(6).fill(200));
    expect(picky.hits).toBeGreaterThan(6);
  });

  it('answers 503 when the only replica cannot be reached', async () => {
    h = await startHarness();
    const svc = await h.service([await deadEndpoint()]);
    const res = await postJson(h, h.predictUrl(svc.id), { inputs: { image: 'x' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((((await res.json()) as any)).code).toBe(50300);
  });

  it('ejects a replica after consecutive 5xx answers and lets it back after ejectForMs', async () => {
    // ejectForMs is long enough for each burst of requests below to finish inside it, even on a loaded machine.
    h = await startHarness({ ejectAfterFailures: 3, ejectForMs: 1000 });
    let broken = true;
    const flaky = await backend((req, res, body) => (broken ? sendJson(res, 500, { code: 50000, message: 'boom' }) : echo(req, res, body)));
    const good = await backend(echo);
    const svc = await h.service([flaky.endpoint('flaky'), good.endpoint('good')]);

    const first = await load(svc.id, 1, 12);
    // Its own 500s are streamed back unchanged, three of them; then it is out of rotation.
    expect(first.filter((s) => s === 500)).toHaveLength(3);
    expect(flaky.hits).toBe(3);

    await delay(1050);
    await load(svc.id, 1, 6);
    // Back in rotation, still broken: its first failure ejects it again at once.
    expect(flaky.hits).toBe(4);

    broken = false;
    await delay(1050);
    const healed = await load(svc.id, 1, 10);
    expect(healed).toEqual(Array(10).fill(200));
    expect(flaky.hits).toBeGreaterThanOrEqual(4 + 4);
  });

  it('keeps a replica ejected when a table update keeps it, and routes to a replica the update adds', async () => {
    h = await startHarness({ ejectAfterFailures: 1, ejectForMs: 60_000 });
    const failing = await backend((_req, res) => sendJson(res, 500, { code: 50000, message: 'boom' }));
    const good = await backend(echo);
    const svc = await h.service([failing.endpoint('failing'), good.endpoint('good')]);
    await load(svc.id, 1, 4);
    expect(failing.hits).toBe(1);

    const added = await backend(echo);
    const updated = await h.store.services.update(svc.id, svc.version, {
      endpoints: [failing.endpoint('failing'), good.endpoint('good'), added.endpoint('added')],
      readyReplicas: 3,
    });
    await h.publishStatus(updated);
    await delay(20);
    const statuses = await load(svc.id, 1, 10);
    expect(statuses).toEqual(Array(10).fill(200));
    expect(failing.hits).toBe(1);
    expect(added.hits).toBe(5);
  });
});
