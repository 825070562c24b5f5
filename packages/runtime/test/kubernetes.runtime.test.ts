import { newServiceId } from '@remotegpu/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KUBERNETES_RBAC_NEEDS, type KubernetesRuntime, type RuntimeObservation } from '../src/index.js';
import { runRuntimeContract, settled, specFor, waitForObservation, type ModelUnderTest } from '../src/contract/runtime.contract.js';
import { kubeHarness, leftovers, NAMESPACE, type KubeHarness } from './kubernetes.fixtures.js';

/**
 * The kubernetes runtime against the fake kube-apiserver (packages/testkit/src/kube): the shared contract with
 * every pod a real process on its own loopback IP (so replica urls answer), then what only this adapter does,
 * on simulated pods (fast, no processes).
 */
runRuntimeContract(
  'kubernetes (fake kube-apiserver, pods as processes)',
  async () => {
    const harness = await kubeHarness({ processes: true });
    // The fake's ReplicaSet controller ranks pods for deletion as Kubernetes does (creation time in whole seconds).
    return { runtime: harness.runtime(), model: await harness.model(), scaleDownOrder: 'any-ready', cleanup: () => harness.cleanup() };
  },
  { timeoutMs: 20_000 },
);

const CPU_NODE = { name: 'cpu-1', cpu: 64, memory: '256Gi' };
const gpuModel = (m: ModelUnderTest): ModelUnderTest => m;

describe('kubernetes runtime on the fake kube-apiserver', () => {
  let h: KubeHarness;
  let runtime: KubernetesRuntime;
  let model: ModelUnderTest;
  const wait = (id: string, done: (o: RuntimeObservation) => boolean, what: string) => waitForObservation(runtime, id, done, 10_000, what);

  beforeEach(async () => {
    h = await kubeHarness({ fake: { nodes: [CPU_NODE, { name: 'gpu-1', gpus: 1, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] }] } });
    runtime = h.runtime({ relistIntervalMs: 0 });
    await runtime.start();
    model = await h.model();
  });
  afterEach(() => h.cleanup());

  it('creates the Deployment DESIGN §6 describes: resources, GPU limit, placement, probes, rollout, labels', async () => {
    const id = newServiceId();
    await runtime.apply(specFor(id, gpuModel(model), { replicas: 1, gpu: 1, cpu: 2, memory: 4 * 1024 ** 3 }));
    await wait(id, settled(1, 1), 'one GPU replica');
    const deployment = h.kube.get('Deployment', NAMESPACE, id) as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { strategy: unknown; template: { spec: { nodeName?: string; nodeSelector: unknown; containers: { resources: unknown; readinessProbe: unknown; startupProbe: unknown }[] } } };
    };
    expect(deployment.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'remotegpu', 'remotegpu.io/service-id': id, 'remotegpu.io/workspace-id': '1' });
    expect(deployment.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const [container] = deployment.spec.template.spec.containers;
    const quantities = { cpu: '2000m', memory: String(4 * 1024 ** 3), 'nvidia.com/gpu': '1' };
    expect(container.resources).toEqual({ requests: quantities, limits: quantities });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/v2/health/ready' } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/v2/health/ready' } });
    // The scheduler put it on the GPU node (selector and toleration of the taint).
    const [pod] = h.kube.list('Pod', NAMESPACE).filter((p) => p.metadata.labels?.['remotegpu.io/service-id'] === id) as unknown as { spec: { nodeName: string } }[];
    expect(pod.spec.nodeName).toBe('gpu-1');
    expect((await runtime.capacity())).toEqual({ gpus: 1, freeGpus: 0 });
  });

  it('GPU shortage: waits with insufficient_gpu and the scheduler message, runs when capacity frees up', async () => {
    const id = newServiceId();
    await runtime.apply(specFor(id, model, { replicas: 2, gpu: 1 }));
    const waiting = await wait(id, (o) => o.condition?.reason === 'insufficient_gpu' && o.replicas.some((r) => r.phase === 'ready'), 'one ready, one waiting for a GPU');
    expect(waiting.condition).toMatchObject({ type: 'waiting', message: expect.stringContaining('Insufficient nvidia.com/gpu') });
    expect(waiting.replicas.map((r) => r.phase).sort()).toEqual(['pending', 'ready']);

    await h.kube.setNodeGpus('gpu-1', 2);
    const running = await wait(id, settled(2, 1), 'both replicas once the node has 2 GPUs');
    expect(running.condition).toBeNull();
  });

  it('an image that cannot be pulled → failed, image_pull_failed, with the kubelet message', async () => {
    const id = newServiceId();
    h.kube.failPods({ labels: { 'remotegpu.io/service-id': id } }, { kind: 'ImagePull', message: 'pull access denied for registry.example.com/remotegpu' });
    await runtime.apply(specFor(id, model, { replicas: 1 }));
    const failed = await wait(id, (o) => o.condition?.type === 'failed', 'a failed condition');
    expect(failed.condition).toMatchObject({ reason: 'image_pull_failed', message: expect.stringContaining('pull access denied') });
  });

  it('a crash-looping replica → failed, crash_loop, with its last termination message', async () => {
    const id = newServiceId();
    h.kube.failPods({ labels: { 'remotegpu.io/service-id': id } }, { kind: 'CrashLoop', exitCode: 1, message: 'Error: cannot open model' });
    await runtime.apply(specFor(id, model, { replicas: 1 }));
    const failed = await wait(id, (o) => o.condition?.type === 'failed', 'a failed condition');
    expect(failed.condition).toMatchObject({ reason: 'crash_loop', params: { lastFailure: 'Error (exit code 1): Error: cannot open model' } });
  });

  it('an unchanged reconcile makes no request at all, let alone a write', async () => {
    const id = newServiceId();
    const spec = specFor(id, model, { replicas: 2 });
    await runtime.apply(spec);
    await wait(id, settled(2, 1), '2 ready replicas');
    await new Promise((r) => setTimeout(r, 100));
    const from = h.kube.requests.length;
    for (let i = 0; i < 5; i++) {
      await runtime.apply(spec);
      await runtime.observe(id);
      await runtime.services();
    }
    expect(h.kube.writesSince(from)).toEqual([]);
    expect(h.kube.requests.slice(from).filter((r) => r.verb !== 'watch')).toEqual([]);
    // A scale is one write (the Deployment), the Service stays untouched.
    await runtime.apply({ ...spec, replicas: 3, generation: 2 });
    expect(h.kube.writesSince(from).map((r) => `${r.verb} ${r.resource}`)).toEqual(['update deployments.apps']);
  });

  it('a Deployment deleted by hand comes back on the next reconcile (and the runtime says something changed)', async () => {
    const id = newServiceId();
    const spec = specFor(id, model, { replicas: 1 });
    await runtime.apply(spec);
    const before = await wait(id, settled(1, 1), 'a ready replica');
    const changed: string[] = [];
    runtime.onChange((serviceId) => changed.push(serviceId));
    h.kube.delete('Deployment', NAMESPACE, id);
    await wait(id, (o) => o.generation === null, 'the runtime to see the Deployment gone');
    expect(changed).toContain(id);
    await runtime.apply(spec);
    const after = await wait(id, settled(1, 1), 'the replica back');
    expect(after.replicas[0].replicaId).not.toBe(before.replicas[0].replicaId);
  });

  it('stop scales to 0 and keeps the objects; start scales back; delete leaves nothing with the label', async () => {
    const id = newServiceId();
    const tokens = { issue: () => ({ token: 'artifact.token.value', expiresAt: Date.now() + 3_600_000 }) };
    runtime = h.runtime({ relistIntervalMs: 0, artifactTokens: tokens });
    await runtime.start();
    const viaGateway = { ...model, artifact: { ...model.artifact, uri: 'http://gateway.test/api/v1/artifacts/1/v1', access: 'artifact_token' as const } };
    await runtime.apply(specFor(id, viaGateway, { replicas: 2 }));
    await wait(id, settled(2, 1), '2 ready replicas');
    const uid = h.kube.get('Deployment', NAMESPACE, id)?.metadata.uid;

    await runtime.pause(id);
    const paused = await wait(id, (o) => o.replicas.length === 0, 'no replica');
    expect(paused).toEqual({ serviceId: id, generation: 1, replicas: [], condition: null });
    expect(leftovers(h.kube, id).map((o) => o.split('/')[0]).sort()).toEqual(['Deployment', 'ReplicaSet', 'Secret', 'Service']);
    expect((h.kube.get('Deployment', NAMESPACE, id) as unknown as { spec: { replicas: number } }).spec.replicas).toBe(0);
    const from = h.kube.requests.length;
    await runtime.pause(id);
    expect(h.kube.writesSince(from)).toEqual([]);

    await runtime.apply(specFor(id, viaGateway, { replicas: 2, generation: 2 }));
    await wait(id, settled(2, 2), 'started again');
    expect(h.kube.get('Deployment', NAMESPACE, id)?.metadata.uid).toBe(uid);

    await runtime.remove(id);
    await wait(id, (o) => o.generation === null && o.replicas.length === 0, 'the service to be forgotten');
    await h.kube.waitFor(() => leftovers(h.kube, id).length === 0, 5_000, 'nothing left with the label');
    expect(await runtime.services()).not.toContain(id);
    const after = h.kube.requests.length;
    await runtime.remove(id);
    expect(h.kube.requests.slice(after).filter((r) => r.verb !== 'watch')).toEqual([]);
  });

  it('the artifact token lives in a Secret, refreshed past half its life without touching the Deployment', async () => {
    const id = newServiceId();
    let now = Date.now();
    let minted = 0;
    const tokens = { issue: () => ({ token: `token-${++minted}`, expiresAt: now + 60_000 }) };
    runtime = h.runtime({ relistIntervalMs: 0, artifactTokens: tokens });
    await runtime.start();
    const viaGateway = { ...model, artifact: { ...model.artifact, uri: 'http://gateway.test/api/v1/artifacts/1/v1', access: 'artifact_token' as const } };
    const spec = specFor(id, viaGateway, { replicas: 1 });
    await runtime.apply(spec);
    await wait(id, settled(1, 1), 'a ready replica');
    const secret = () => h.kube.get('Secret', NAMESPACE, `${id}-artifact`) as unknown as { data: { token: string } };
    expect(Buffer.from(secret().data.token, 'base64').toString()).toBe('token-1');
    const pods = h.kube.list('Pod', NAMESPACE) as unknown as { spec: { containers: { env: { name: string; valueFrom?: unknown }[] }[] } }[];
    expect(pods[0].spec.containers[0].env.find((e) => e.name === 'RGPU_MODEL_TOKEN')?.valueFrom).toEqual({ secretKeyRef: { name: `${id}-artifact`, key: 'token' } });

    await runtime.apply(spec);
    expect(minted).toBe(1);
    // Past half of its life: one write, the Secret; the pods keep running.
    now = Date.now();
    const realNow = Date.now;
    Date.now = () => realNow() + 31_000;
    try {
      const from = h.kube.requests.length;
      await runtime.apply(spec);
      expect(minted).toBe(2);
      expect(h.kube.writesSince(from).map((r) => `${r.verb} ${r.resource}`)).toEqual(['update secrets']);
    } finally {
      Date.now = realNow;
    }
    await h.kube.waitFor(() => Buffer.from(secret().data.token, 'base64').toString() === 'token-2', 2_000, 'the new token');
  });

  it('follows the cluster through a watch expiry (410 Gone → re-list) and a dropped watch', async () => {
    const id = newServiceId();
    await runtime.apply(specFor(id, model, { replicas: 1 }));
    const first = await wait(id, settled(1, 1), 'a ready replica');
    h.kube.expireWatchHistory();
    h.kube.delete('Pod', NAMESPACE, first.replicas[0].replicaId);
    const replaced = await wait(id, (o) => settled(1, 1)(o) && o.replicas[0].replicaId !== first.replicas[0].replicaId, 'the ReplicaSet’s new pod');
    h.kube.closeWatches();
    h.kube.delete('Pod', NAMESPACE, replaced.replicas[0].replicaId);
    const third = await wait(id, (o) => settled(1, 1)(o) && o.replicas[0].replicaId !== replaced.replicas[0].replicaId, 'another new pod after the watch was dropped');
    // The API server refuses the pods' re-watch twice (the informer stops on such errors): restarted with backoff.
    h.kube.injectFailure({ method: 'GET', path: '/pods', code: 503, message: 'apiserver is shutting down', times: 2 });
    h.kube.closeWatches();
    h.kube.delete('Pod', NAMESPACE, third.replicas[0].replicaId);
    await wait(id, (o) => settled(1, 1)(o) && o.replicas[0].replicaId !== third.replicas[0].replicaId, 'a new pod seen after the informer came back');
    expect(h.kube.requests.filter((r) => r.code === 503 && r.path.endsWith('/pods'))).toHaveLength(2);
  });

  it('an API server error fails the apply (the provisioner retries); the next one converges', async () => {
    const id = newServiceId();
    const undo = h.kube.injectFailure({ method: 'POST', path: '/deployments', code: 500, message: 'etcdserver: request timed out', times: 1 });
    await expect(runtime.apply(specFor(id, model, { replicas: 1 }))).rejects.toThrow();
    undo();
    await runtime.apply(specFor(id, model, { replicas: 1 }));
    await wait(id, settled(1, 1), 'a ready replica after the retry');
  });

  it('asks the API server for exactly what KUBERNETES_RBAC_NEEDS grants', async () => {
    const id = newServiceId();
    const tokens = { issue: () => ({ token: 't', expiresAt: Date.now() + 3_600_000 }) };
    runtime = h.runtime({ relistIntervalMs: 0, artifactTokens: tokens });
    const from = h.kube.requests.length;
    await runtime.start();
    const viaGateway = { ...model, artifact: { ...model.artifact, uri: 'http://gateway.test/a', access: 'artifact_token' as const } };
    // A create that meets an object our cache has not seen yet (409) reads it (get) and goes on.
    for (const path of ['/deployments', '/services', '/secrets']) h.kube.injectFailure({ method: 'POST', path, code: 409, message: 'already exists', times: 1 });
    await runtime.apply(specFor(id, viaGateway, { replicas: 1, gpu: 1 }));
    await wait(id, settled(1, 1), 'a ready replica');
    await runtime.capacity();
    // Replica logs: the pods' log subresource (the fake serves empty logs), read and followed.
    expect(await runtime.logs(id, { tail: 10, since: new Date(Date.now() - 60_000) })).toEqual([]);
    (await runtime.followLogs(id, {}, () => undefined)).close();
    // Another workspace label and version: the Deployment, the Service and the token Secret are updated.
    await runtime.apply(specFor(id, viaGateway, { replicas: 1, gpu: 1, generation: 2, workspaceId: 2, version: 'v2' }));
    await runtime.pause(id);
    await runtime.relist();
    await runtime.remove(id);
    await wait(id, (o) => o.generation === null && o.replicas.length === 0, 'gone');
    const name = (verb: string, group: string, resource: string) => `${verb} ${group ? `${resource}.${group}` : resource}`;
    const granted = new Set(KUBERNETES_RBAC_NEEDS.map((n) => name(n.verb, n.apiGroup, n.resource)));
    // What the API server served (watches included; it logs failed requests without their verb) and what the
    // adapter sent (failures included).
    const served = h.kube.requests
      .slice(from)
      .filter((r) => r.resource)
      .map((r) => `${r.verb} ${r.resource === 'pods' && r.path.endsWith('/log') ? 'pods/log' : r.resource}`);
    const sent = Object.keys(runtime.stats().calls).map((key) => {
      const [verb, path] = key.split(' ');
      const slash = path.indexOf('/');
      return name(verb, path.slice(0, slash), path.slice(slash + 1));
    });
    const used = new Set([...served, ...sent]);
    expect([...used].filter((u) => !granted.has(u))).toEqual([]);
    // And the list is not padded: every need was used.
    expect([...granted].filter((g) => !used.has(g))).toEqual([]);
  });
});
