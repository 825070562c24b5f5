import { afterEach, describe, expect, it } from 'vitest';
import type { InferenceService } from '@remotegpu/core';
import { delay, echo, eventually, postJson, startBackend, startHarness, storeService, type Backend, type Harness } from './router.harness.js';

describe('router routing table', () => {
  let h: Harness;
  let backends: Backend[] = [];
  const backend = async (): Promise<Backend> => {
    const b = await startBackend(echo);
    backends.push(b);
    return b;
  };
  const predict = async (serviceId: string): Promise<number> => {
    const res = await postJson(h, h.predictUrl(serviceId), {});
    await res.arrayBuffer();
    return res.status;
  };

  afterEach(async () => {
    await h?.close();
    await Promise.all(backends.map((b) => b.close()));
    backends = [];
  });

  it('is rebuilt from the store at start, without deleted services, and then follows events, not the store', async () => {
    const first = await backend();
    const second = await backend();
    let running: InferenceService | undefined;
    let deleted: InferenceService | undefined;
    h = await startHarness({}, async (store) => {
      running = await storeService(store, [first.endpoint('one')]);
      const doomed = await storeService(store, [first.endpoint('x')]);
      deleted = await store.services.update(doomed.id, doomed.version, { deletedAt: new Date().toISOString() });
    });

    expect(await predict(running!.id)).toBe(200);
    expect(await predict(deleted!.id)).toBe(404);
    expect(first.hits).toBe(1);

    // A store write nobody announced does not move traffic: requests are served from the table.
    await h.store.services.update(running!.id, running!.version, { endpoints: [second.endpoint('two')] });
    expect(await predict(running!.id)).toBe(200);
    expect(first.hits).toBe(2);
    expect(second.hits).toBe(0);
  });

  it('sends traffic to an endpoint a status event adds, ignores older events, and 404s after a deleted event', async () => {
    h = await startHarness();
    const first = await backend();
    const second = await backend();
    const svc = await h.service([first.endpoint('one')]);
    expect(await predict(svc.id)).toBe(200);

    await h.publishStatus({ ...svc, version: svc.version + 1, endpoints: [first.endpoint('one'), second.endpoint('two')] });
    await eventually(async () => (await predict(svc.id)) === 200 && second.hits > 0);

    // An event of an older record version (delivered late) changes nothing, even stamped by a clock that runs
    // ahead: events are ordered by the record's version, never by wall-clock time (DESIGN §2.1).
    const clockAhead = new Date(Date.now() + 3_600_000).toISOString();
    await h.publishStatus({ ...svc, status: 'stopped', endpoints: [] }, { at: clockAhead });
    await delay(20);
    for (let i = 0; i < 4; i++) expect(await predict(svc.id)).toBe(200);
    expect(second.hits).toBeGreaterThan(1);

    // A newer version applies even when its host's clock is behind.
    const clockBehind = new Date(Date.now() - 3_600_000).toISOString();
    await h.publishStatus({ ...svc, version: svc.version + 2, status: 'stopping', endpoints: [] }, { at: clockBehind });
    await eventually(async () => (await predict(svc.id)) === 409);

    await h.publishStatus({ ...svc, version: svc.version + 3 }, { deleted: true });
    await eventually(async () => (await predict(svc.id)) === 404);
    // Deletion is final: a later, non-deleted event for the same id does not bring it back.
    await h.publishStatus({ ...svc, version: svc.version + 4 });
    await delay(20);
    expect(await predict(svc.id)).toBe(404);
  });

  it('routes a service it first hears of through an event', async () => {
    h = await startHarness();
    const replica = await backend();
    const svc = await h.service([]);
    await h.publishStatus({ ...svc, status: 'running', endpoints: [replica.endpoint('r')] });
    await eventually(async () => (await predict(svc.id)) === 200);
  });

  it('fails queued requests when their service stops (409) instead of letting them time out', async () => {
    h = await startHarness({ maxInFlightPerReplica: 1 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const replica = await startBackend(async (req, res, body) => {
      await gate;
      echo(req, res, body);
    });
    backends.push(replica);
    const svc = await h.service([replica.endpoint('r')]);
    const inFlight = postJson(h, h.predictUrl(svc.id), {});
    await eventually(() => replica.hits === 1);
    const queued = postJson(h, h.predictUrl(svc.id), {});
    await eventually(async () => (await h.gauge('rgpu_router_queue_depth', svc.id)) === 1);

    await h.publishStatus({ ...svc, status: 'stopping', endpoints: [] });
    expect((await queued).status).toBe(409);
    open();
    expect((await inFlight).status).toBe(200);
  });

  it('repairs a missed event with the periodic resync', async () => {
    h = await startHarness({ resyncIntervalMs: 100 });
    const first = await backend();
    const second = await backend();
    const svc = await h.service([first.endpoint('one')]);
    expect(await predict(svc.id)).toBe(200);
    await h.store.services.update(svc.id, svc.version, { endpoints: [second.endpoint('two')] });
    await eventually(async () => (await predict(svc.id)) === 200 && second.hits > 0);
  });
});
