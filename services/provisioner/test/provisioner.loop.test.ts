import { afterEach, describe, expect, it } from 'vitest';
import { eventually, Harness } from './support/harness.js';

/** The control loop as it runs in production: intents, runtime changes and resyncs wake the workers. */
describe('Provisioner loop', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('follows a service through its life from intents alone, publishing every status a subscriber expects', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000 });
    await p.start();

    const service = await h.create({ replicas: 2 }, { intent: true });
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(2));
    h.runtime.makeReady(service.id); // the runtime's onChange wakes the provisioner, no intent needed
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running', readyReplicas: 2 }));

    await h.stop(service.id, { intent: true });
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'stopping', endpoints: [] }));
    h.runtime.reap(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'stopped' }));

    await h.delete(service.id, { intent: true });
    await eventually(async () => expect(await h.store.services.getIncludingDeleted(service.id)).toBeNull());

    expect(h.publishedStatuses(service.id)).toEqual(['creating', 'running', 'stopping', 'stopped', 'deleted']);
    expect(h.eventsFor(service.id)[0]).toMatchObject({ status: 'creating', previousStatus: null });
    expect(await h.runtime.services()).toEqual([]);
  });

  it('passes on the status the gateway wrote, even when the runtime finishes before anyone could see it', async () => {
    h = await Harness.open({ termination: 'instant' });
    const p = h.provisioner({ resyncIntervalMs: 60_000 });
    await p.start();
    const service = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(1));
    h.runtime.makeReady(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running' }));

    await h.stop(service.id, { intent: true });
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'stopped' }));
    expect(h.publishedStatuses(service.id)).toEqual(['creating', 'running', 'stopping', 'stopped']);
    expect(h.eventsFor(service.id).find((e) => e.status === 'stopping')).toMatchObject({ previousStatus: 'running', endpoints: [] });
  });

  it('carries the intent correlation id into the status events it causes', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000 });
    await p.start();
    const service = await h.create({ replicas: 1 });
    await h.publishIntent('create', service, 'req-42');
    await eventually(() => expect(h.eventsFor(service.id)[0]).toMatchObject({ status: 'creating', correlationId: 'req-42' }));
  });

  it('keeps the request’s correlation id on the reconciles the runtime wakes until the service settles, then drops it', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000 });
    await p.start();
    const service = await h.create({ replicas: 2 });
    await h.publishIntent('create', service, 'req-create');
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(2));
    // Replicas become ready one by one: runtime wake-ups, no intent, still the same user request.
    h.runtime.makeReady(service.id, 1);
    await eventually(() => expect(h.eventsFor(service.id).at(-1)).toMatchObject({ readyReplicas: 1 }));
    h.runtime.makeReady(service.id);
    await eventually(() => expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'running', readyReplicas: 2 }));
    expect(h.eventsFor(service.id).map((e) => e.correlationId)).toEqual(h.eventsFor(service.id).map(() => 'req-create'));

    // Settled: a crash later on is nobody's request.
    const before = h.eventsFor(service.id).length;
    h.runtime.crash(service.id);
    await eventually(() => expect(h.eventsFor(service.id).length).toBeGreaterThan(before));
    expect(h.eventsFor(service.id).slice(before).every((e) => e.correlationId === undefined)).toBe(true);
  });

  it('resync repairs a missed intent and removes orphans the store no longer wants', async () => {
    h = await Harness.open({ termination: 'instant' });
    const p = h.provisioner({ resyncIntervalMs: 40 });
    // An orphan: replicas the runtime holds for a service the store has never heard of (or purged).
    await h.runtime.apply({
      serviceId: 'svc-orphanorphan01',
      workspaceId: 7,
      generation: 1,
      replicas: 1,
      cpu: 1,
      memory: 1,
      gpu: 0,
      model: {
        name: 'svc-orphanorphan01',
        modelId: 1,
        version: '1',
        artifact: { uri: 'file:///x', sha256: 'f'.repeat(64), sizeBytes: 1, access: 'none' },
        labels: ['a'],
        preprocessing: null,
      },
    });
    await p.start();
    await eventually(async () => expect(await h.runtime.services()).toEqual([]));

    // Created without an intent (the publish was lost): the next resync still finds it.
    const service = await h.create({ replicas: 1 });
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(1));
    h.runtime.makeReady(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running' }));
  });

  it('brings services back after a restart of the whole process (provisioner and runtime)', async () => {
    h = await Harness.open();
    const first = h.provisioner({ resyncIntervalMs: 60_000 });
    await first.start();
    const service = await h.create({ replicas: 2 }, { intent: true });
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(2));
    h.runtime.makeReady(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running' }));
    await first.stop();

    h.runtime.forgetEverything(); // the local runtime's replicas died with the process
    const second = h.provisioner({ resyncIntervalMs: 60_000 });
    await second.start(); // no event at all: the start-up resync alone must do it
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(2));
    h.runtime.makeReady(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running', readyReplicas: 2 }));
    const urls = h.runtime.replicas(service.id).map((r) => r.url).sort();
    expect((await h.get(service.id)).endpoints.map((e) => e.url).sort()).toEqual(urls);
  });

  it('retries a failed reconcile with backoff', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000, retryBaseMs: 20 });
    h.runtime.failApplies = 3;
    await p.start();
    const service = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(1));
    // Three failures, then success, each retry after a doubling delay: 20 + 40 + 80 ms.
    const [first, , , fourth] = h.runtime.applyTimes;
    expect(fourth - first).toBeGreaterThanOrEqual(130);
    h.runtime.makeReady(service.id);
    await eventually(async () => expect(await h.get(service.id)).toMatchObject({ status: 'running' }));
  });

  it('never reconciles one service on two workers at once, and folds a storm of wake-ups together', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000, workers: 4 });
    const service = await h.create({ replicas: 1 });
    await p.start();
    await p.whenIdle();
    const applies = h.runtime.calls.apply;

    let release!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (release = resolve));
    for (let i = 0; i < 50; i++) await h.publishIntent('update', service);
    await eventually(() => expect(h.runtime.calls.apply).toBe(applies + 1));
    const direct = p.reconcile(service.id); // a direct call waits for the worker too
    await new Promise((resolve) => setTimeout(resolve, 30));
    h.runtime.applyGate = null;
    release();
    await direct;
    await p.whenIdle();

    expect(h.runtime.maxConcurrentPerService).toBe(1);
    // The one in flight, one folded re-run for everything that arrived meanwhile, and the direct call.
    expect(h.runtime.calls.apply - applies).toBeLessThanOrEqual(3);
  });

  it('stop() waits for the reconcile in flight and takes no more work', async () => {
    h = await Harness.open();
    const p = h.provisioner({ resyncIntervalMs: 60_000 });
    await p.start();
    let release!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (release = resolve));
    const service = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(h.runtime.calls.apply).toBe(1));

    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    h.runtime.applyGate = null;
    release();
    await stopping;
    expect((await h.get(service.id)).observedGeneration).toBe(1); // the in-flight reconcile finished its write

    const other = await h.create({ replicas: 1 }, { intent: true });
    h.runtime.makeReady(service.id);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.runtime.replicas(other.id)).toEqual([]);
    expect((await h.get(service.id)).status).toBe('creating');
  });

  it('two instances on one store, bus and runtime converge without corrupting state or history', async () => {
    h = await Harness.open({ termination: 'instant' });
    const a = h.provisioner({ resyncIntervalMs: 30, workers: 2 });
    const b = h.provisioner({ resyncIntervalMs: 30, workers: 2 });
    await Promise.all([a.start(), b.start()]);

    const services = await Promise.all(Array.from({ length: 6 }, () => h.create({ replicas: 2 }, { intent: true })));
    await eventually(() => {
      for (const s of services) expect(h.runtime.replicas(s.id)).toHaveLength(2);
    });
    for (const s of services) h.runtime.makeReady(s.id);
    await eventually(async () => {
      for (const s of services) expect(await h.get(s.id)).toMatchObject({ status: 'running', readyReplicas: 2 });
    });
    for (const s of services) await h.stop(s.id, { intent: true });
    await eventually(async () => {
      for (const s of services) expect(await h.get(s.id)).toMatchObject({ status: 'stopped' });
    });
    // Let a few more resyncs of both instances run over the converged state.
    await new Promise((resolve) => setTimeout(resolve, 100));

    for (const s of services) {
      expect(await h.statusChanges(s.id)).toEqual(['running', 'stopped']);
      const stored = await h.get(s.id);
      expect(stored).toMatchObject({ readyReplicas: 0, endpoints: [], observedGeneration: 1 });
      expect(h.runtime.replicas(s.id)).toEqual([]);
      expect(h.eventsFor(s.id).at(-1)).toMatchObject({ status: 'stopped' });
    }
  });
});
