import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { PredictionLoad } from '../support/load.js';
import { listReplicaProcesses, replicaPids } from '../support/replicas.js';

const WS = 32;
const WORKERS = 4;

/**
 * What a client keeps doing while the platform changes underneath it: a replica dies, the service scales,
 * the model version rolls. Every prediction sent meanwhile must succeed with the right class — a failure
 * here is one a user would have seen. The tests share one service and run in order.
 */
describe('resilience under continuous load (real replica processes)', () => {
  let p: TestPlatform;
  let api: PlatformClient;
  let modelId: number;
  let id: string;
  let service: { id: string; endpointUrl: string };
  let load: PredictionLoad | undefined;

  const startLoad = async () => {
    load = await new PredictionLoad({ client: api, service, workers: WORKERS }).start();
    await load.progress(40); // the load is really flowing before anything changes
    return load;
  };
  const stopLoad = async () => {
    const result = await load!.stop();
    load = undefined;
    return result;
  };
  const patch = (body: Record<string, unknown>) => api.expectOk('PATCH', `/inference/services/${id}`, body);
  /** `rgpu_router_retries_total` of the service, from the public /metrics. */
  const routerRetries = async (serviceId: string) => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`rgpu_router_retries_total{service="${serviceId}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  /** Running with `n` ready replicas and exactly `n` replica processes on the machine. */
  const converged = async (n: number) => {
    await api.waitRunning(id, n);
    return waitFor(() => replicaPids(id), (pids) => pids.length === n, `${n} replica processes`, 15_000);
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    api = new PlatformClient(p.url, await p.token({ sub: 'resilience', workspaces: [WS] }));
    ({ modelId } = await p.registerColorModel(WS, api.token, { name: 'resilience-colours', version: 'v1' }));
    id = await api.createService({ name: 'resilient', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 2 });
    const detail = await api.waitRunning(id, 2, 60_000);
    service = { id, endpointUrl: detail.endpoint_url };
  }, 90_000);
  afterEach(async () => {
    await load?.stop(); // a failed test must not leave its workers running into the next one
    load = undefined;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('absorbs kill -9 of a replica without a failed prediction, and restores 2 ready replicas', async () => {
    const before = await converged(2);
    await startLoad();
    const victim = before[0];
    process.kill(victim, 'SIGKILL');
    // The runtime notices and restarts it: a new process, the survivor untouched.
    const after = await waitFor(
      () => replicaPids(id),
      (pids) => pids.length === 2 && !pids.includes(victim),
      'a replacement replica process',
      20_000,
    );
    expect(after).toContain(before[1]);
    await api.waitRunning(id, 2, 20_000);
    await load!.progress(40); // and traffic keeps flowing after the replacement
    const { ok, failures } = await stopLoad();
    expect(failures, `${failures.length} failed of ${ok + failures.length}`).toEqual([]);
    expect(ok).toBeGreaterThan(80);
    expect(replicaPids(id)).toEqual(after);
    // The kill hit requests in flight (4 workers on 2 replicas): the router's retry is what saved them.
    expect(await routerRetries(id)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('rolls a model_version change replica by replica under load: zero failures, all replicas new and serving v2', async () => {
    // v2: the softmax variant of the same classifier (outputs probabilities, not logits), as a new version.
    await api.uploadColorVersion(modelId, 'v2', { logits: false });

    const before = await converged(2);
    await startLoad();
    const patched = await patch({ model_version: 'v2' });
    expect(patched).toMatchObject({ model_version: 'v2', status: 'updating' });
    const running = await api.waitRunning(id, 2, 40_000);
    expect(running.model_version).toBe('v2');
    const after = await waitFor(() => replicaPids(id), (pids) => pids.length === 2, 'two replica processes after the rollout', 15_000);
    await load!.progress(40);
    const { ok, failures } = await stopLoad();
    expect(failures, `${failures.length} failed of ${ok + failures.length}`).toEqual([]);

    expect(after.filter((pid) => before.includes(pid)), 'every replica was replaced').toEqual([]);
    const versions = listReplicaProcesses().filter((r) => r.serviceId === id).map((r) => r.version);
    expect(versions).toEqual(['v2', 'v2']);
    // What the data plane serves: OIP metadata and infer answers name v2, whichever replica answers.
    for (let i = 0; i < 6; i++) {
      const meta = await api.fetchJson(`${service.endpointUrl}/v2/models/${id}`, 'GET');
      expect(meta.body.versions).toEqual(['v2']);
    }
    const plane = (v: number) => new Array<number>(32 * 32).fill(v);
    const infer = await api.fetchJson(`${service.endpointUrl}/v2/models/${id}/infer`, 'POST', {
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: [...plane(0.1), ...plane(0.2), ...plane(0.9)] }],
    });
    expect(infer.body.model_version).toBe('v2');
    // The softmax variant outputs probabilities already: they sum to 1 and blue leads.
    const scores = infer.body.outputs[0].data as number[];
    expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(scores.indexOf(Math.max(...scores))).toBe(2);
    expect(predictionProblem(await predictVia(api, 'data-plane', service, await colorImage('blue', 'jpeg', 80, 60)), 'blue')).toBeNull();
  }, 90_000);

  it('scales 1 → 3 → 1 under load: zero failures, processes follow, survivors are never restarted', async () => {
    const two = await converged(2);
    await startLoad();

    await patch({ replicas: 1 });
    const one = await converged(1);
    expect(two, 'the survivor of 2 → 1 is one of the previous replicas').toEqual(expect.arrayContaining(one));

    await patch({ replicas: 3 });
    const three = await converged(3);
    expect(three, 'scale-up keeps the running replica').toEqual(expect.arrayContaining(one));
    await load!.progress(40);

    await patch({ replicas: 1 });
    const last = await converged(1);
    expect(three, 'the survivor of 3 → 1 is one of the previous replicas').toEqual(expect.arrayContaining(last));
    await load!.progress(40);

    const { ok, failures } = await stopLoad();
    expect(failures, `${failures.length} failed of ${ok + failures.length}`).toEqual([]);
  }, 90_000);
});
