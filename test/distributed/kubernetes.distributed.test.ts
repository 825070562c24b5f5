import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, tempDir, type FakeKubeApiServer, type TempDir } from '@remotegpu/testkit';
import { podProcesses } from '../../packages/runtime/test/pod-process.runner.js';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictionProblem, predictVia } from '../support/client.js';

const WS = 88;
const NAMESPACE = 'rgpu-replicas';
const MODEL_SERVER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../services/model-server/dist/main.js');

interface DeploymentView {
  metadata: { labels: Record<string, string>; uid: string };
  spec: {
    replicas: number;
    strategy: unknown;
    template: { spec: { nodeSelector?: Record<string, string>; containers: { image: string; command: string[]; resources: unknown; readinessProbe: unknown; startupProbe: unknown; env: { name: string; value?: string }[] }[] } };
  };
}

/**
 * The platform with RGPU_RUNTIME=kubernetes (gateway, router, provisioner processes over NATS) against the fake
 * kube-apiserver. Its kubelet runs each pod as the real model server, built from the pod spec (env, the token from
 * the Secret, emptyDirs) on its own loopback IP: the replica downloads its model from the gateway's artifact
 * endpoint with that token, and the router sends predictions to the pod IP the provisioner reported.
 */
describe('RGPU_RUNTIME=kubernetes end to end on the fake kube-apiserver', () => {
  let kube: FakeKubeApiServer;
  let pods: TempDir;
  let stack: DistributedStack;
  let api: PlatformClient;
  let modelId: number;
  let id: string;

  beforeAll(async () => {
    pods = await tempDir('rgpu-k8s-pods-');
    kube = await startFakeKubeApiServer({
      namespaces: [NAMESPACE],
      nodes: [{ name: 'cpu-1', cpu: 32, memory: '64Gi' }, { name: 'gpu-1', gpus: 2, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] }],
      runPods: podProcesses({
        kube: () => kube,
        dir: pods.path,
        readyTimeoutMs: 40_000,
        // The image's entry point (`node services/model-server/dist/main.js`), run from this checkout's build.
        command: () => ({ command: process.execPath, args: [MODEL_SERVER] }),
      }),
    });
    stack = await DistributedStack.start({ provisioners: 0 });
    await stack.spawn('provisioner', {
      RGPU_RUNTIME: 'kubernetes',
      KUBECONFIG: kube.kubeconfigPath,
      RGPU_K8S_NAMESPACE: NAMESPACE,
      RGPU_K8S_IMAGE: 'registry.example.com/remotegpu:e2e',
      RGPU_K8S_GPU_NODE_SELECTOR: 'nvidia.com/gpu.present=true',
      RGPU_K8S_TOLERATIONS: '[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]',
      RGPU_ARTIFACT_BASE_URL: stack.url,
    });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'k8s', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token, 'v1');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await kube?.stop();
    await pods?.cleanup();
  }, 60_000);

  it('create → running: the Deployment has the resources, GPU limit, placement, probes and labels; predictions reach the pods', async () => {
    id = await api.createService({ name: 'on-k8s', workspace_id: WS, model_id: modelId, model_version: 'v1', cpu: 1.5, memory: 1073741824, gpu: 1, replicas: 2 });
    const detail = await api.waitRunning(id, 2, 90_000);

    const deployment = kube.get('Deployment', NAMESPACE, id) as unknown as DeploymentView;
    expect(deployment.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'remotegpu', 'remotegpu.io/service-id': id, 'remotegpu.io/workspace-id': String(WS) });
    expect(deployment.spec.strategy).toMatchObject({ rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const [container] = deployment.spec.template.spec.containers;
    expect(container.image).toBe('registry.example.com/remotegpu:e2e');
    expect(container.command).toEqual(['node', 'services/model-server/dist/main.js']);
    const quantities = { cpu: '1500m', memory: '1073741824', 'nvidia.com/gpu': '1' };
    expect(container.resources).toEqual({ requests: quantities, limits: quantities });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/v2/health/ready' } });
    expect(container.startupProbe).toBeTruthy();
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    // No platform secret in the pod spec: the JWT secret of this stack appears nowhere.
    expect(JSON.stringify(deployment)).not.toContain(stack.secret);
    expect(container.env.map((e) => e.name)).toContain('RGPU_MODEL_URI');

    const outcome = await predictVia(api, 'data-plane', { id, endpointUrl: detail.endpoint_url }, await colorImage('red', 'png', 64, 48));
    expect(predictionProblem(outcome, 'red')).toBeNull();
    const rest = await predictVia(api, 'rest', { id, endpointUrl: detail.endpoint_url }, await colorImage('blue', 'png', 32, 32));
    expect(predictionProblem(rest, 'blue')).toBeNull();
    // Downloaded from the gateway's artifact endpoint, once per pod.
    expect(stack.gateways[0].logs().filter((line) => line.msg === 'artifact download' && line.modelId === modelId)).toHaveLength(2);
  }, 120_000);

  it('at rest, the provisioner\'s resyncs (every 2 s here) make no request to the API server but its watches', async () => {
    const from = kube.requests.length;
    await new Promise((r) => setTimeout(r, 4_500));
    expect(kube.writesSince(from)).toEqual([]);
    expect(kube.requests.slice(from).filter((r) => r.verb !== 'watch')).toEqual([]);
    expect((await api.detail(id)).status).toBe('running');
  }, 20_000);

  it('a replica waiting for a GPU shows creating / insufficient_gpu, and runs once the node has one more', async () => {
    const waiting = await api.createService({ name: 'needs-gpu', workspace_id: WS, model_id: modelId, model_version: 'v1', gpu: 1, replicas: 1 });
    const detail = await api.waitForDetail(waiting, (d) => d.status_reason === 'insufficient_gpu', 'waiting for a GPU', 60_000);
    expect(detail.status).toBe('creating');
    expect(detail.status_message).toContain('Insufficient nvidia.com/gpu');
    await kube.setNodeGpus('gpu-1', 3);
    await api.waitRunning(waiting, 1, 90_000);
    await api.expectOk('DELETE', `/inference/services/${waiting}`, undefined, 204);
  }, 180_000);

  it('stop scales the Deployment to 0 and keeps it; start brings the replicas back; the history says so', async () => {
    const uid = (kube.get('Deployment', NAMESPACE, id) as unknown as DeploymentView).metadata.uid;
    await api.expectOk('POST', `/inference/services/${id}/stop`);
    await api.waitForDetail(id, (d) => d.status === 'stopped', 'stopped', 60_000);
    const stopped = kube.get('Deployment', NAMESPACE, id) as unknown as DeploymentView;
    expect(stopped.spec.replicas).toBe(0);
    expect(kube.get('Service', NAMESPACE, id)).toBeDefined();
    expect(kube.list('Pod', NAMESPACE).filter((p) => p.metadata.labels?.['remotegpu.io/service-id'] === id)).toEqual([]);

    await api.expectOk('POST', `/inference/services/${id}/start`);
    await api.waitRunning(id, 2, 90_000);
    expect((kube.get('Deployment', NAMESPACE, id) as unknown as DeploymentView).metadata.uid).toBe(uid);

    const history = (await api.events(id)).map((e) => e.status);
    for (const status of ['creating', 'running', 'stopping', 'stopped']) expect(history).toContain(status);
    expect(history.lastIndexOf('running')).toBeGreaterThan(history.indexOf('stopped'));
  }, 180_000);

  it('delete → 204, then nothing carrying the service label is left on the cluster', async () => {
    await api.expectOk('DELETE', `/inference/services/${id}`, undefined, 204);
    const leftovers = () =>
      ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'Secret'].flatMap((kind) =>
        kube.list(kind, NAMESPACE).filter((o) => o.metadata.labels?.['remotegpu.io/service-id'] === id).map((o) => `${kind}/${o.metadata.name}`),
      );
    await kube.waitFor(() => leftovers().length === 0, 30_000, `nothing left of ${id}: ${leftovers().join(', ')}`);
    expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);
  }, 60_000);
});
