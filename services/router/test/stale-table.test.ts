import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, delay, postJson, sendJson, startHarness, type Harness } from './router.harness.js';

/**
 * In distributed mode the gateway reads the store and forwards a predict; the router's table follows events that
 * may still be on their way. Before refusing (409 not serving, 503 no replica) the router looks at the store once
 * more — but not on every request: a stream of requests to a stopped service costs a few store reads a second.
 */
describe('router: a refusal is checked against the store first', () => {
  let h: Harness | undefined;
  const pool = backendPool();

  afterEach(async () => {
    await h?.close();
    await pool.closeAll();
    h = undefined;
  });

  const predict = (id: string) => postJson(h!, h!.predictUrl(id), { inputs: { image: 'aGk=' } });

  it('serves a service whose running state is in the store before its event reached the table', async () => {
    h = await startHarness();
    const replica = await pool.start((_req, res) => sendJson(res, 200, { code: 0, data: { predictions: [{ class: 'red', confidence: 1 }] } }));
    const creating = await h.service([], { status: 'creating' });
    expect((await predict(creating.id)).status).toBe(503); // the table now holds `creating`, no replica
    await delay(300);
    // The provisioner wrote `running`; its event has not arrived (none is published here).
    await h.store.services.update(creating.id, creating.version, { status: 'running', readyReplicas: 1, endpoints: [replica.endpoint('r1')] });
    const res = await predict(creating.id);
    expect(res.status).toBe(200);
    expect(replica.hits).toBe(1);
  });

  it('reads the store at most a few times a second for a service that stays refused', async () => {
    h = await startHarness();
    const stopped = await h.service([], { status: 'stopped' });
    const store = h.store.services;
    let reads = 0;
    const original = store.getIncludingDeleted.bind(store);
    store.getIncludingDeleted = (id: string) => {
      reads += 1;
      return original(id);
    };
    const started = Date.now();
    let answers = 0;
    while (Date.now() - started < 1_000) {
      expect((await predict(stopped.id)).status).toBe(409);
      answers += 1;
    }
    expect(answers).toBeGreaterThan(20);
    expect(reads).toBeLessThanOrEqual(5);
    expect(reads).toBeGreaterThanOrEqual(1);
  });
});
