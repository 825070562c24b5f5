import { createServer } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { startFakeKubeApiServer, type CoreEvent, type Deployment, type FakeKubeApiServer, type FakeKubeOptions, type Pod, type ReplicaSet } from '../../src/kube/index.js';
import { deploymentManifest, kubeClient } from './fake-kube.support.js';

/**
 * The simulated control plane behind the fake: what the runtime adapter observes through the API must be what a
 * cluster would show — rolling updates within maxSurge/maxUnavailable, GPU pods Pending with the scheduler's
 * words until capacity frees, image-pull and crash-loop failures in pod status, real processes as pods.
 */

let kube: FakeKubeApiServer | undefined;
afterEach(async () => {
  await kube?.stop();
  kube = undefined;
});

async function start(options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
  kube = await startFakeKubeApiServer({ timing: { startMs: 5, readyMs: 40, backoffMs: 40, maxBackoffMs: 160 }, ...options });
  return kube;
}

const pods = (k: FakeKubeApiServer, app: string) => (k.list('Pod', 'default') as Pod[]).filter((p) => p.metadata.labels?.app === app);
const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const deployment = (k: FakeKubeApiServer, name: string) => k.get('Deployment', 'default', name) as Deployment;

describe('deployment controller', () => {
  test('a rolling update with maxSurge 1 / maxUnavailable 0 never drops below the replicas ready nor exceeds one extra pod', async () => {
    const k = await start();
    const api = kubeClient(k);
    expect((await api.post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('roll', { replicas: 3 }))).status).toBe(201);
    await k.waitFor(() => deployment(k, 'roll').status?.availableReplicas === 3, 5_000, '3 available');

    let minReady = Infinity;
    let maxPods = 0;
    const sample = setInterval(() => {
      const current = pods(k, 'roll');
      minReady = Math.min(minReady, current.filter(ready).length);
      maxPods = Math.max(maxPods, current.length);
    }, 1);
    try {
      const patch = await api.patch('/apis/apps/v1/namespaces/default/deployments/roll', { spec: { template: { spec: { containers: [{ name: 'server', image: 'model-server:2.0' }] } } } }, 'application/strategic-merge-patch+json');
      expect(patch.status).toBe(200);
      expect(patch.body.metadata.generation).toBe(2);
      await k.waitFor(() => {
        const d = deployment(k, 'roll');
        return d.status?.observedGeneration === 2 && d.status.updatedReplicas === 3 && d.status.availableReplicas === 3 && d.status.replicas === 3;
      }, 10_000, 'the rollout to finish');
    } finally {
      clearInterval(sample);
    }
    expect(minReady).toBe(3);
    expect(maxPods).toBe(4);
    const sets = (k.list('ReplicaSet', 'default') as ReplicaSet[]).filter((rs) => rs.metadata.labels?.app === 'roll');
    expect(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec.replicas]).sort()).toEqual([['1', 0], ['2', 3]]);
    expect(pods(k, 'roll').every((p) => p.spec.containers[0].image === 'model-server:2.0')).toBe(true);
    const d = deployment(k, 'roll');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  test('going back to an earlier template (rollout undo) reuses its ReplicaSet under a new revision', async () => {
    const k = await start();
    const api = kubeClient(k);
    await api.post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('undo'));
    const image = (tag: string) => api.patch('/apis/apps/v1/namespaces/default/deployments/undo', { spec: { template: { spec: { containers: [{ name: 'server', image: `model-server:${tag}` }] } } } }, 'application/strategic-merge-patch+json');
    const settled = (revision: string) => k.waitFor(() => {
      const d = deployment(k, 'undo');
      return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision && d.status?.updatedReplicas === 1 && d.status.replicas === 1 && d.status.availableReplicas === 1;
    }, 5_000, `revision ${revision} rolled out`);
    await settled('1');
    const first = (k.list('ReplicaSet', 'default') as ReplicaSet[]).find((rs) => rs.metadata.labels?.app === 'undo')!;
    await image('2.0');
    await settled('2');
    // What kubectl rollout undo sends: the old template back, with the null creationTimestamp Go writes.
    const back = structuredClone(first.spec.template) as unknown as { metadata: { labels: Record<string, string>; creationTimestamp: null } };
    delete back.metadata.labels['pod-template-hash'];
    back.metadata.creationTimestamp = null;
    await api.patch('/apis/apps/v1/namespaces/default/deployments/undo', [{ op: 'replace', path: '/spec/template', value: back }], 'application/json-patch+json');
    await settled('3');
    const sets = (k.list('ReplicaSet', 'default') as ReplicaSet[]).filter((rs) => rs.metadata.labels?.app === 'undo');
    expect(sets).toHaveLength(2);
    const reused = sets.find((rs) => rs.metadata.uid === first.metadata.uid)!;
    expect(reused.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.spec.replicas).toBe(1);
  });

  test('Recreate stops every old pod before the new ReplicaSet starts any', async () => {
    const k = await start();
    const api = kubeClient(k);
    const manifest = deploymentManifest('recreate', { replicas: 2 });
    (manifest.spec as Record<string, unknown>).strategy = { type: 'Recreate' };
    await api.post('/apis/apps/v1/namespaces/default/deployments', manifest);
    await k.waitFor(() => pods(k, 'recreate').filter(ready).length === 2, 5_000, 'two ready');
    let mixed = false;
    const sample = setInterval(() => {
      const images = new Set(pods(k, 'recreate').map((p) => p.spec.containers[0].image));
      if (images.size > 1) mixed = true;
    }, 1);
    try {
      await api.patch('/apis/apps/v1/namespaces/default/deployments/recreate', { spec: { template: { spec: { containers: [{ name: 'server', image: 'model-server:2.0' }] } } } }, 'application/strategic-merge-patch+json');
      await k.waitFor(() => pods(k, 'recreate').filter((p) => ready(p) && p.spec.containers[0].image === 'model-server:2.0').length === 2, 5_000, 'two new ready');
    } finally {
      clearInterval(sample);
    }
    expect(mixed).toBe(false);
  });

  test('a rollout that cannot progress gets Progressing=False ProgressDeadlineExceeded after the (scaled) deadline', async () => {
    const k = await start({ progressDeadlineScale: 0.001 });
    k.failPods({ image: 'stuck:1' }, { kind: 'NeverReady' });
    const manifest = deploymentManifest('stuck', { image: 'stuck:1' });
    (manifest.spec as Record<string, unknown>).progressDeadlineSeconds = 300; // 0.3 s here
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', manifest);
    await k.waitFor(() => deployment(k, 'stuck').status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False') ?? false, 5_000, 'the deadline');
    expect(deployment(k, 'stuck').status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: expect.stringMatching(/^ReplicaSet "stuck-\w+" has timed out progressing\.$/),
    });
    expect(deployment(k, 'stuck').status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  test('scaling to 0 keeps the objects and removes the pods; deleting the deployment removes its ReplicaSets and pods', async () => {
    const k = await start();
    const api = kubeClient(k);
    await api.post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('gc', { replicas: 2 }));
    await k.waitFor(() => pods(k, 'gc').filter(ready).length === 2, 5_000, 'two ready pods');
    const scale = await api.patch('/apis/apps/v1/namespaces/default/deployments/gc/scale', { spec: { replicas: 0 } });
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 0 } });
    await k.waitFor(() => pods(k, 'gc').length === 0, 5_000, 'no pods');
    expect(deployment(k, 'gc').spec.replicas).toBe(0);
    expect((k.list('ReplicaSet', 'default') as ReplicaSet[]).filter((rs) => rs.metadata.labels?.app === 'gc')).toHaveLength(1);
    await api.patch('/apis/apps/v1/namespaces/default/deployments/gc', { spec: { replicas: 1 } });
    await k.waitFor(() => pods(k, 'gc').filter(ready).length === 1, 5_000, 'one pod back');

    const deleted = await api.del('/apis/apps/v1/namespaces/default/deployments/gc');
    expect(deleted.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gc', group: 'apps', kind: 'deployments' } });
    await k.waitFor(() => pods(k, 'gc').length === 0 && !(k.list('ReplicaSet', 'default') as ReplicaSet[]).some((rs) => rs.metadata.labels?.app === 'gc'), 5_000, 'GC of ReplicaSets and pods');
  });
});

describe('endpoints', () => {
  test('a Service gets an Endpoints object and an EndpointSlice with its ready pods\' IPs and resolved target ports', async () => {
    const k = await start();
    const api = kubeClient(k);
    const manifest = deploymentManifest('svc', { replicas: 2 });
    manifest.spec.template.spec.containers[0].ports = [{ containerPort: 8080, name: 'http' } as { containerPort: number }];
    await api.post('/apis/apps/v1/namespaces/default/deployments', manifest);
    const created = await api.post('/api/v1/namespaces/default/services', { metadata: { name: 'svc' }, spec: { selector: { app: 'svc' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } });
    expect(created.body.spec).toMatchObject({ type: 'ClusterIP', clusterIP: expect.stringMatching(/^10\.96\./), ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    await k.waitFor(() => pods(k, 'svc').filter(ready).length === 2, 5_000, 'two ready pods');
    const ips = pods(k, 'svc').map((p) => p.status?.podIP).sort();
    const slices = async () => (await api.get('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dsvc')).body.items;
    let slice: { endpoints: { addresses: string[]; conditions: { ready: boolean } }[]; ports: unknown; addressType: string; metadata: { name: string } } | undefined;
    for (let i = 0; i < 100; i++) {
      [slice] = await slices();
      if (slice?.endpoints.filter((e) => e.conditions.ready).length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(slice?.metadata.name).toMatch(/^svc-[a-z0-9]{5}$/);
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.endpoints.map((e) => e.addresses[0]).sort()).toEqual(ips);
    expect(slice?.ports).toEqual([{ name: 'web', port: 8080, protocol: 'TCP' }]);
    const endpoints = (await api.get('/api/v1/namespaces/default/endpoints/svc')).body;
    expect(endpoints.subsets[0].addresses.map((a: { ip: string }) => a.ip).sort()).toEqual(ips);

    await api.patch('/apis/apps/v1/namespaces/default/deployments/svc', { spec: { replicas: 1 } });
    await k.waitFor(() => pods(k, 'svc').length === 1, 5_000, 'one pod');
    for (let i = 0; i < 100 && (await slices())[0].endpoints.length !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await slices())[0].endpoints.map((e: { addresses: string[] }) => e.addresses[0])).toEqual([pods(k, 'svc')[0].status?.podIP]);

    await api.del('/api/v1/namespaces/default/services/svc');
    await k.waitFor(() => !k.get('Endpoints', 'default', 'svc') && k.list('EndpointSlice', 'default').length === 0, 5_000, 'endpoints removed with the service');
  });
});

describe('scheduler', () => {
  test('a GPU pod that does not fit stays Pending with the scheduler\'s condition and event, and runs once capacity frees up', async () => {
    const k = await start({ nodes: [{ name: 'gpu-1', gpus: 1 }, { name: 'cpu-1' }] });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('gpus', { replicas: 2, gpus: 1 }));
    await k.waitFor(() => pods(k, 'gpus').length === 2 && pods(k, 'gpus').some((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')), 5_000, 'a pending pod');
    const [pending] = pods(k, 'gpus').filter((p) => !p.spec.nodeName);
    const message = '0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..';
    expect(pending.status?.phase).toBe('Pending');
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    const events = (k.list('Event', 'default') as CoreEvent[]).filter((e) => e.involvedObject.name === pending.metadata.name && e.reason === 'FailedScheduling');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', message, source: { component: 'default-scheduler' }, involvedObject: { kind: 'Pod', uid: pending.metadata.uid } });
    await k.waitFor(() => deployment(k, 'gpus').status?.readyReplicas === 1, 5_000, 'one ready replica');

    await k.setNodeGpus('gpu-1', 2);
    await k.waitFor(() => pods(k, 'gpus').filter(ready).length === 2, 5_000, 'both pods ready');
    expect(k.get('Pod', 'default', pending.metadata.name ?? '')).toMatchObject({ spec: { nodeName: 'gpu-1' } });
  });

  test('node selectors and taints are reasons of their own, and a pod that tolerates the taint runs on the GPU node', async () => {
    const k = await start({ nodes: [{ name: 'gpu-1', gpus: 1, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }, { name: 'cpu-1' }] });
    const manifest = deploymentManifest('tainted', { replicas: 1, gpus: 1 });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', manifest);
    await k.waitFor(() => pods(k, 'tainted').some((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable')), 5_000, 'unschedulable');
    expect(pods(k, 'tainted')[0].status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe(
      '0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling..',
    );
    const tolerating = deploymentManifest('tolerating', { replicas: 1, gpus: 1 });
    Object.assign(tolerating.spec.template.spec, { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'nvidia.com/gpu.present': 'true' } });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', tolerating);
    await k.waitFor(() => pods(k, 'tolerating').some(ready), 5_000, 'the tolerating pod runs on the GPU node');
    expect(pods(k, 'tolerating')[0].spec.nodeName).toBe('gpu-1');
  });
});

describe('kubelet failures', () => {
  test('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff, with the kubelet\'s events', async () => {
    const k = await start();
    k.failPods({ image: 'registry.example.com/missing:1' }, { kind: 'ImagePull' });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('pull', { image: 'registry.example.com/missing:1' }));
    const reasons = new Set<string>();
    await k.waitFor(() => {
      const reason = pods(k, 'pull')[0]?.status?.containerStatuses?.[0]?.state.waiting?.reason;
      if (reason) reasons.add(reason);
      return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff');
    }, 5_000, 'both pull reasons');
    const pod = pods(k, 'pull')[0];
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.podIP).toMatch(/^10\./);
    expect(ready(pod)).toBe(false);
    const messages = (k.list('Event', 'default') as CoreEvent[]).filter((e) => e.involvedObject.uid === pod.metadata.uid).map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(messages).toContain('Warning Failed Error: ErrImagePull');
    expect(messages).toContain('Normal BackOff Back-off pulling image "registry.example.com/missing:1"');
  });

  test('a crashing container: restartCount grows, CrashLoopBackOff, lastState.terminated with the exit code', async () => {
    const k = await start();
    k.failPods({ labels: { app: 'crash' } }, { kind: 'CrashLoop', exitCode: 3, message: 'cannot open model' });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('crash'));
    await k.waitFor(() => (pods(k, 'crash')[0]?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 5_000, 'two restarts');
    const status = pods(k, 'crash')[0].status!;
    expect(status.phase).toBe('Running');
    const container = status.containerStatuses![0];
    expect(container.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error', message: 'cannot open model' });
    expect(ready(pods(k, 'crash')[0])).toBe(false);
    await k.waitFor(() => pods(k, 'crash')[0].status?.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff', 5_000, 'CrashLoopBackOff');
    expect(pods(k, 'crash')[0].status?.containerStatuses?.[0]?.state.waiting?.message).toMatch(/^back-off [\d.]+s restarting failed container=server pod=crash-\w+-\w+_default\(/);
  });
});

describe('real pods (runPods)', () => {
  test('each pod runs as a real server on its own pod IP, reachable on its container port, and stops with the pod', async () => {
    const running = new Set<string>();
    // Linux routes all of 127/8 to loopback: each pod gets its own address and listens on the container port.
    const subnet = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;
    let next = 1;
    const k = await start({
      runPods: async (pod) => {
        const ip = `${subnet}.${next++}`;
        const server = createServer((_req, res) => res.end(pod.metadata.name));
        await new Promise<void>((r) => server.listen(pod.spec.containers[0].ports?.[0]?.containerPort ?? 8080, ip, r));
        running.add(pod.metadata.name ?? '');
        return { ip, stop: () => new Promise<void>((r) => server.close(() => (running.delete(pod.metadata.name ?? ''), r()))) };
      },
    });
    const api = kubeClient(k);
    await api.post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('real', { replicas: 2 }));
    await k.waitFor(() => pods(k, 'real').filter(ready).length === 2, 5_000, 'two real pods ready');
    expect(running.size).toBe(2);
    for (const pod of pods(k, 'real')) {
      expect(pod.status?.podIP?.startsWith(`${subnet}.`)).toBe(true);
      const res = await fetch(`http://${pod.status?.podIP}:8080/`);
      expect(await res.text()).toBe(pod.metadata.name);
    }
    await api.patch('/apis/apps/v1/namespaces/default/deployments/real', { spec: { replicas: 0 } });
    await k.waitFor(() => running.size === 0, 5_000, 'the processes to stop');
  });

  test('a process that exits is a crash: restartCount grows and it is started again', async () => {
    let starts = 0;
    const k = await start({
      runPods: async () => {
        starts++;
        let exit!: (code: number) => void;
        const exited = new Promise<number>((r) => (exit = r));
        if (starts === 1) setTimeout(() => exit(2), 20);
        return { ip: '127.0.0.1', exited: exited.then((exitCode) => ({ exitCode, message: 'model file is corrupt' })), stop: () => exit(0) };
      },
    });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('exits'));
    await k.waitFor(() => starts === 2 && pods(k, 'exits').some(ready), 5_000, 'a second start, ready');
    const container = pods(k, 'exits')[0].status?.containerStatuses?.[0];
    expect(container?.restartCount).toBe(1);
    expect(container?.lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: 'model file is corrupt' });
  });

  test('a container that cannot be created waits with the kubelet\'s reason (no restart counted) and starts once it can', async () => {
    let attempts = 0;
    const k = await start({
      runPods: async () => {
        if (++attempts < 3) throw new Error('CreateContainerConfigError: secret "artifact-token" not found');
        return { ip: '127.0.0.1', stop: () => undefined };
      },
    });
    await kubeClient(k).post('/apis/apps/v1/namespaces/default/deployments', deploymentManifest('config'));
    await k.waitFor(() => pods(k, 'config')[0]?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError', 5_000, 'CreateContainerConfigError');
    expect(pods(k, 'config')[0].status?.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: false, state: { waiting: { message: 'secret "artifact-token" not found' } } });
    await k.waitFor(() => pods(k, 'config').some(ready), 5_000, 'ready once the secret exists');
    expect(pods(k, 'config')[0].status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});
