import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Provisioner } from '../src/index.js';
import { flush, Harness } from './support/harness.js';

/** What the runtime reports that is not simply "replicas came up": failures, waiting, crashes, races. */
describe('reconcile: conditions and races', () => {
  let h: Harness;
  let p: Provisioner;

  beforeEach(async () => {
    h = await Harness.open({ gpus: 1 });
    p = h.provisioner();
  });
  afterEach(() => h.close());

  async function reconcile(id: string) {
    const outcome = await p.reconcile(id);
    await flush();
    return outcome;
  }

  it('a failed runtime condition fails the service with its reason; only a user start clears it', async () => {
    const service = await h.create({ replicas: 1 });
    await reconcile(service.id);
    h.runtime.setCondition(service.id, { type: 'failed', reason: 'model_load_failed', message: 'the artifact is not a valid ONNX model' });

    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({
      status: 'failed',
      statusReason: 'model_load_failed',
      statusMessage: 'the artifact is not a valid ONNX model',
    });
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'failed', previousStatus: 'creating', reason: 'model_load_failed' });
    expect(await h.statusChanges(service.id)).toEqual(['failed:model_load_failed']);

    // The runtime recovering on its own does not make a failed service look healthy…
    h.runtime.setCondition(service.id, null);
    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'failed', statusReason: 'model_load_failed', readyReplicas: 1, endpoints: [] });

    // …a user's start does.
    await h.start(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'running', statusReason: null, readyReplicas: 1 });
  });

  it('a missing model version fails the service without touching the runtime', async () => {
    const service = await h.create({ modelVersion: '9.9.9' });
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'failed', statusReason: 'model_version_missing' });
    expect((await h.get(service.id)).statusMessage).toContain('9.9.9');
    expect(h.runtime.calls.apply).toBe(0);
    expect(await reconcile(service.id)).toBe('unchanged');
  });

  it('more GPUs than the machine has: failed at once with the runtime reason', async () => {
    const service = await h.create({ gpu: 4 });
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'failed', statusReason: 'gpu_request_exceeds_capacity' });
  });

  it('insufficient free GPUs: stays creating with the reason, runs once GPUs free up', async () => {
    const service = await h.create({ gpu: 1, replicas: 2 });
    await reconcile(service.id);
    let stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'creating', statusReason: 'insufficient_gpu', readyReplicas: 0 });
    expect(stored.statusMessage).toContain('GPU');
    // A new reason is news for subscribers even though the status did not change.
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'creating', reason: 'insufficient_gpu' });

    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    expect(await h.get(service.id)).toMatchObject({ status: 'creating', statusReason: 'insufficient_gpu', readyReplicas: 1 });

    h.runtime.setGpus(2);
    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', statusReason: null, readyReplicas: 2 });
    expect(h.runtime.replicas(service.id).map((r) => r.gpus).sort()).toEqual([[0], [1]]);
  });

  it('a running service that loses a replica stays running, says so, and recovers', async () => {
    const service = await h.create({ replicas: 2 });
    await reconcile(service.id);
    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    const crashed = h.runtime.crash(service.id);

    await reconcile(service.id);
    let stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', readyReplicas: 1, statusReason: 'replicas_unavailable' });
    expect(stored.endpoints.map((e) => e.replicaId)).not.toContain(crashed);
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ status: 'running', readyReplicas: 1, reason: 'replicas_unavailable' });

    h.runtime.makeReady(service.id);
    await reconcile(service.id);
    stored = await h.get(service.id);
    expect(stored).toMatchObject({ status: 'running', readyReplicas: 2, statusReason: null });
    expect(stored.endpoints).toHaveLength(2);
    // A crash is not a status change: the history shows only the one transition to running.
    expect(await h.statusChanges(service.id)).toEqual(['running']);
  });

  it('a concurrent store write during a reconcile is re-read and re-decided, keeping both writes', async () => {
    const service = await h.create({ replicas: 1 });
    await reconcile(service.id);
    h.runtime.makeReady(service.id);

    // The gateway changes the description between the provisioner's read and its write.
    const update = h.store.services.update.bind(h.store.services);
    let raced = 0;
    h.store.services.update = async (id, expectedVersion, patch, event) => {
      if (raced++ === 0) {
        const current = await h.get(id);
        await update(id, current.version, { description: 'edited meanwhile' });
      }
      return update(id, expectedVersion, patch, event);
    };

    expect(await reconcile(service.id)).toBe('updated');
    expect(raced).toBe(2);
    expect(await h.get(service.id)).toMatchObject({ status: 'running', description: 'edited meanwhile', readyReplicas: 1 });
    expect(await h.statusChanges(service.id)).toEqual(['running']);
    expect(h.eventsFor(service.id).filter((e) => e.status === 'running')).toHaveLength(1);
  });

  it('a delete that lands during a reconcile turns it into the finalizer', async () => {
    const service = await h.create({ replicas: 1 });
    await reconcile(service.id);
    h.runtime.makeReady(service.id);

    const update = h.store.services.update.bind(h.store.services);
    let raced = false;
    h.store.services.update = async (id, expectedVersion, patch, event) => {
      if (!raced) {
        raced = true;
        await h.delete(id);
      }
      return update(id, expectedVersion, patch, event);
    };

    expect(await reconcile(service.id)).toBe('terminating');
    h.runtime.reap(service.id);
    expect(await reconcile(service.id)).toBe('purged');
    expect(h.eventsFor(service.id).at(-1)).toMatchObject({ deleted: true });
  });
});
