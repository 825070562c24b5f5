import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Provisioner } from '../src/index.js';
import { flush, Harness } from './support/harness.js';

/**
 * The reconciler's decisions, one `reconcile()` at a time (no worker loop), against a real SQLite store, the
 * in-process bus and a fake runtime whose replicas the test moves by hand.
 */
describe('reconcile: service lifecycle', () => {
  let h: Harness;
  let p: Provisioner;

  beforeEach(async () => {
    h = await Harness.open();
    p = h.provisioner();
  });
  afterEach(() => h.close());

  async function reconcile(id: string) {
    const outcome = await p.reconcile(id);
    await flush();
    return outcome;
  }

  /** Creates a service and brings it to running with all replicas ready. */
  async function runningService(replicas = 2) {
    const service = await h.create({ replicas });
    await reconcile(service.id);
    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    expect((await h.get(service.id)).status).toBe('running');
    return service;
  }

  it('create: creating until every replica is ready, then running with endpoints, in events and history', async () => {
    const service = await h.create({ replicas: 2, gpu: 0, cpu: 2 });

    expect(await reconcile(service.id)).toBe('updated');
    const spec = h.runtime.specOf(service.id)!;
    expect(spec).toMatchObject({
      serviceId: service.id,
      workspaceId: 7,
      generation: 1,
      replicas: 2,
      cpu: 2,
      gpu: 0,
      model: {
        name: service.id,
        version: '1.0.0',
        modelId: h.modelId,
        artifact: { uri: `file:///data/models/${h.modelId}/1.0.0/model.onnx`, access: 'none' },
        labels: ['red', 'green', 'blue'],
        preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      },
    });
    expect(spec.model.artifact.sha256).toMatch(/^100f+$/);
    let stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'creating', readyReplicas: 0, endpoints: [], observedGeneration: 1 });
    // Nothing a subscriber sees changed (still creating, nothing ready): no event.
    expect(h.events).toEqual([]);

    h.runtime.makeReady(service.id, 1);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'creating', readyReplicas: 1 });
    expect(stored.endpoints).toHaveLength(1);

    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    const urls = h.runtime.replicas(service.id).map((r) => r.url);
    expect(stored).toMatchObject({ status: 'running', statusReason: null, readyReplicas: 2 });
    expect(stored.endpoints.map((e) => e.url).sort()).toEqual([...urls].sort());

    expect(h.eventsFor(service.id).map((e) => [e.status, e.readyReplicas])).toEqual([
      ['creating', 1],
      ['running', 2],
    ]);
    const running = h.eventsFor(service.id)[1];
    expect(running).toMatchObject({
      serviceId: service.id,
      workspaceId: 7,
      previousStatus: 'creating',
      reason: null,
      replicas: 2,
      generation: 1,
      deleted: false,
    });
    expect(running.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(running.endpoints).toEqual(stored.endpoints);
    expect(await h.statusChanges(service.id)).toEqual(['running']);
  });

  it('is idempotent: a second reconcile writes nothing and publishes nothing', async () => {
    const service = await runningService();
    const before = await h.get(service.id);
    const published = h.events.length;
    const history = (await h.history(service.id)).length;

    expect(await reconcile(service.id)).toBe('unchanged');
    expect(await reconcile(service.id)).toBe('unchanged');

    expect((await h.get(service.id)).version).toBe(before.version);
    expect(h.events.length).toBe(published);
    expect((await h.history(service.id)).length).toBe(history);
  });

  it('records each replica\'s state: written when a replica changes (a crash), never by an unchanged reconcile', async () => {
    const service = await runningService();
    const ready = (await h.get(service.id)).replicaStates ?? [];
    expect(ready.map((r) => [r.state, r.restarts, r.generation])).toEqual([['ready', 0, 1], ['ready', 0, 1]]);
    expect(ready.map((r) => r.replicaId)).toEqual(h.runtime.replicas(service.id).map((r) => r.replicaId).sort());

    const crashed = h.runtime.crash(service.id);
    await reconcile(service.id);
    const after = await h.get(service.id);
    expect(after.replicaStates?.find((r) => r.replicaId === crashed)).toMatchObject({ state: 'restarting', restarts: 1 });
    expect(await reconcile(service.id)).toBe('unchanged');
    expect((await h.get(service.id)).version).toBe(after.version);
  });

  it('stop: stopping while replicas terminate (no endpoints), then stopped with the runtime empty; start brings it back', async () => {
    const service = await runningService();
    await h.stop(service.id);

    await reconcile(service.id);
    expect(h.runtime.replicas(service.id).every((r) => r.phase === 'terminating')).toBe(true);
    expect(await h.get(service.id)).toMatchObject({ status: 'stopping', endpoints: [], readyReplicas: 0 });
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'stopping', previousStatus: 'running', endpoints: [] });

    h.runtime.reap(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'stopped', statusReason: null, readyReplicas: 0, endpoints: [] });
    expect(await h.runtime.services()).toEqual([]);
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'stopped', previousStatus: 'stopping', readyReplicas: 0 });
    expect(await reconcile(service.id)).toBe('unchanged');

    await h.start(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'creating' });
    expect(h.runtime.replicas(service.id)).toHaveLength(2);
    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'running', readyReplicas: 2 });
    expect(await h.statusChanges(service.id)).toEqual(['running', 'stopped', 'running']);
  });

  it('delete: replicas released first, then a final deleted event and the record purged', async () => {
    const service = await runningService();
    await h.delete(service.id);

    expect(await reconcile(service.id)).toBe('terminating');
    expect(await h.store.services.getIncludingDeleted(service.id)).not.toBeNull();
    expect(h.eventsFor(service.id).some((e) => e.deleted)).toBe(false);

    h.runtime.reap(service.id);
    expect(await reconcile(service.id)).toBe('purged');
    expect(await h.store.services.getIncludingDeleted(service.id)).toBeNull();
    expect(await h.runtime.services()).toEqual([]);
    const last = h.eventsFor(service.id).at(-1)!;
    expect(last).toMatchObject({ deleted: true, readyReplicas: 0, endpoints: [] });

    const published = h.events.length;
    expect(await reconcile(service.id)).toBe('orphan_removed');
    expect(h.events.length).toBe(published);
  });

  it('scale: survivors keep serving while the service grows and shrinks', async () => {
    const service = await runningService(1);
    const [survivor] = h.runtime.replicas(service.id);

    await h.update(service.id, { replicas: 3 });
    await reconcile(service.id);
    let stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'updating', readyReplicas: 1, observedGeneration: 2 });
    expect(stored.endpoints.map((e) => e.replicaId)).toEqual([survivor.replicaId]);

    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', readyReplicas: 3, replicas: 3 });
    expect(stored.endpoints.map((e) => e.replicaId)).toContain(survivor.replicaId);

    await h.update(service.id, { replicas: 1 });
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', readyReplicas: 1 });
    expect(stored.endpoints.map((e) => e.replicaId)).toEqual([survivor.replicaId]);
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'running', replicas: 1, readyReplicas: 1, generation: 3 });
  });

  it('rollout: updating while old and new ready replicas both serve, running once the old ones are gone', async () => {
    const service = await runningService(2);
    const old = h.runtime.replicas(service.id).map((r) => r.replicaId);
    await h.addVersion('2.0.0');

    await h.update(service.id, { modelVersion: '2.0.0' });
    await reconcile(service.id);
    expect(h.runtime.specOf(service.id)!.model).toMatchObject({ version: '2.0.0', artifact: { uri: expect.stringContaining('/2.0.0/') } });
    let stored = await h.get(service.id);
    // The old replicas still serve, so the service never shows 0 ready during a rollout.
    expect(stored).toMatchObject({ status: 'updating', readyReplicas: 2 });
    expect(stored.endpoints.map((e) => e.replicaId).sort()).toEqual([...old].sort());

    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'updating', readyReplicas: 2 });
    expect(stored.endpoints).toHaveLength(4);

    h.runtime.retireOld(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', readyReplicas: 2, observedGeneration: 2 });
    expect(stored.endpoints.map((e) => e.replicaId).some((id) => old.includes(id))).toBe(false);
    // Every published moment of the roll had somewhere to send traffic.
    expect(h.eventsFor(service.id).every((e) => e.endpoints.length > 0)).toBe(true);
    expect(h.publishedStatuses(service.id)).toEqual(['running', 'updating', 'running']);
  });
});
