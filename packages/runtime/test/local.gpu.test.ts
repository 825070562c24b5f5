import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settled, sleep, specFor, waitForObservation } from '../src/contract/runtime.contract.js';
import { debugEnv, localHarness, type LocalHarness } from './local.fixtures.js';

describe('local runtime: GPUs', () => {
  let harness: LocalHarness;
  beforeEach(async () => {
    harness = await localHarness();
  });
  afterEach(() => harness.cleanup());

  it('fails at once, starting nothing, when a replica asks for more GPUs than the machine has', async () => {
    const runtime = harness.runtime({ gpus: 2 });
    await runtime.start();
    const id = 'svc-gputoomany001';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1, gpu: 3 }));
    await sleep(200);
    expect(await runtime.observe(id)).toEqual({
      serviceId: id,
      generation: 1,
      replicas: [],
      condition: {
        type: 'failed',
        reason: 'gpu_request_exceeds_capacity',
        params: { requested: 3, capacity: 2 },
        message: 'requested 3 GPUs per replica; this machine has 2',
      },
    });
    expect(await runtime.capacity()).toEqual({ gpus: 2, freeGpus: 2 });
  });

  it('keeps a replica pending with insufficient_gpu until another service frees the GPUs', async () => {
    const runtime = harness.runtime({ gpus: 2 });
    await runtime.start();
    const model = await harness.model();
    const [first, second] = ['svc-gpufirst00001', 'svc-gpusecond0001'];
    await runtime.apply(specFor(first, model, { replicas: 1, gpu: 2 }));
    const firstUp = await waitForObservation(runtime, first, settled(1, 1), 10_000, 'the first service');
    expect(firstUp.replicas[0].gpus).toEqual([0, 1]);

    const changes: string[] = [];
    runtime.onChange((id) => changes.push(id));
    await runtime.apply(specFor(second, model, { replicas: 1, gpu: 2 }));
    await sleep(200);
    const waiting = await runtime.observe(second);
    expect(waiting.replicas.map((r) => [r.phase, r.gpus, r.url])).toEqual([['pending', [], null]]);
    expect(waiting.condition).toMatchObject({ type: 'waiting', reason: 'insufficient_gpu' });
    expect(waiting.condition!.message).toContain('waiting for 2 free GPUs');
    expect(await runtime.capacity()).toEqual({ gpus: 2, freeGpus: 0 });

    changes.length = 0;
    await runtime.remove(first);
    const secondUp = await waitForObservation(runtime, second, settled(1, 1), 10_000, 'the second service to start');
    expect(secondUp.condition).toBeNull();
    expect(secondUp.replicas[0].gpus).toEqual([0, 1]);
    expect((await debugEnv(secondUp.replicas[0].url!)).env.CUDA_VISIBLE_DEVICES).toBe('0,1');
    expect(changes).toContain(second);
  });

  it('assigns GPUs exclusively through CUDA_VISIBLE_DEVICES, keeps them across restarts and frees them on scale-down', async () => {
    const runtime = harness.runtime({ gpus: 2 });
    await runtime.start();
    const model = await harness.model();
    await runtime.apply(specFor('svc-gpuservicea01', model, { replicas: 1, gpu: 1 }));
    await runtime.apply(specFor('svc-gpuserviceb01', model, { replicas: 1, gpu: 1 }));
    await runtime.apply(specFor('svc-gpuservicec01', model, { replicas: 1, gpu: 0 }));
    const observed = await Promise.all(
      ['svc-gpuservicea01', 'svc-gpuserviceb01', 'svc-gpuservicec01'].map((id) =>
        waitForObservation(runtime, id, settled(1, 1), 10_000, `${id} ready`),
      ),
    );
    const visible = await Promise.all(observed.map(async (o) => (await debugEnv(o.replicas[0].url!)).env.CUDA_VISIBLE_DEVICES));
    expect(visible[2]).toBe('');
    expect(visible.slice(0, 2).sort()).toEqual(['0', '1']);
    for (const [i, o] of observed.entries()) expect(o.replicas[0].gpus.join(',')).toBe(visible[i]);
    expect(observed.map((o) => o.replicas[0].device)).toEqual(['cuda', 'cuda', 'cpu']);

    // A crash does not give the GPU away: the restarted process gets the same one.
    const a = observed[0].replicas[0];
    process.kill((await debugEnv(a.url!)).pid, 'SIGKILL');
    const restarted = await waitForObservation(
      runtime, 'svc-gpuservicea01', (o) => o.replicas[0]?.phase === 'ready' && o.replicas[0].restarts === 1, 10_000, 'restart',
    );
    expect((await debugEnv(restarted.replicas[0].url!)).env.CUDA_VISIBLE_DEVICES).toBe(visible[0]);

    await runtime.apply(specFor('svc-gpuserviceb01', model, { replicas: 0, gpu: 1, generation: 2 }));
    await waitForObservation(runtime, 'svc-gpuserviceb01', (o) => o.replicas.length === 0, 10_000, 'scaled to zero');
    expect(await runtime.capacity()).toEqual({ gpus: 2, freeGpus: 1 });
  });

  it('rolls a new version on a machine whose only GPU the service already holds', async () => {
    const runtime = harness.runtime({ gpus: 1 });
    await runtime.start();
    const id = 'svc-gpuonegpuroll1';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1, gpu: 1 }));
    await waitForObservation(runtime, id, settled(1, 1), 10_000, 'v1 ready');
    await runtime.apply(specFor(id, await harness.model({}, 'v2'), { replicas: 1, gpu: 1, generation: 2 }));
    const rolled = await waitForObservation(runtime, id, settled(1, 2), 10_000, 'v2 ready');
    expect(rolled.replicas[0].gpus).toEqual([0]);
    expect((await debugEnv(rolled.replicas[0].url!)).env.RGPU_MODEL_VERSION).toBe('v2');
    expect(rolled.condition).toBeNull();
  });
});
