import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeKubeApiServer, tempDir, type FakeKubeApiServer, type FakeKubeOptions, type TempDir } from '@remotegpu/testkit';
import { KubernetesRuntime, type KubernetesRuntimeOptions } from '../src/index.js';
import type { ModelUnderTest } from '../src/contract/runtime.contract.js';
import { FAKE_MODEL_SERVER, type FakeBehaviour } from './local.fixtures.js';
import { podProcesses } from './pod-process.runner.js';

export const NAMESPACE = 'rgpu-replicas';
/** Where the fixture "downloads" models from: the pod runner maps these URIs to the behaviour files. */
const ARTIFACT_HOST = 'http://artifacts.test/';

export interface KubeHarness {
  kube: FakeKubeApiServer;
  dir: TempDir;
  /** A model whose replicas behave as told (real processes only; simulated pods ignore it). */
  model(behaviour?: FakeBehaviour, version?: string): Promise<ModelUnderTest>;
  runtime(options?: Partial<KubernetesRuntimeOptions>): KubernetesRuntime;
  cleanup(): Promise<void>;
}

/**
 * A fake kube-apiserver with its simulated control plane, and runtimes pointed at it through a kubeconfig file as
 * a user's would be. `processes: true` runs every pod as a fake-model-server process on its own loopback IP.
 */
export async function kubeHarness(options: { processes?: boolean; fake?: FakeKubeOptions } = {}): Promise<KubeHarness> {
  const dir = await tempDir('rgpu-k8s-runtime-');
  let kube: FakeKubeApiServer | undefined;
  const runPods = options.processes
    ? podProcesses({
        kube: () => kube!,
        dir: join(dir.path, 'pods'),
        command: (_pod, env) => {
          const uri = env.RGPU_MODEL_URI ?? '';
          const behaviourFile = uri.startsWith(ARTIFACT_HOST) ? join(dir.path, uri.slice(ARTIFACT_HOST.length)) : '';
          return { command: process.execPath, args: [FAKE_MODEL_SERVER], env: { RGPU_MODEL_PATH: behaviourFile, RGPU_EXIT_ON_STDIN_CLOSE: '1' } };
        },
      })
    : undefined;
  kube = await startFakeKubeApiServer({
    namespaces: [NAMESPACE],
    timing: { startMs: 5, readyMs: 30, backoffMs: 50, maxBackoffMs: 400 },
    ...(runPods ? { runPods } : {}),
    ...options.fake,
  });
  const runtimes: KubernetesRuntime[] = [];
  let artifacts = 0;
  return {
    kube,
    dir,
    async model(behaviour = {}, version = 'v1') {
      const file = `model-${++artifacts}.json`;
      await writeFile(join(dir.path, file), JSON.stringify(behaviour));
      const artifact = { uri: `${ARTIFACT_HOST}${file}`, sha256: String(artifacts).padStart(64, '0'), sizeBytes: 2, access: 'none' as const };
      return { modelId: artifacts, version, artifact, labels: ['red', 'green', 'blue'], preprocessing: null };
    },
    runtime(overrides = {}) {
      const runtime = new KubernetesRuntime({
        kubeconfig: { kind: 'file', path: kube!.kubeconfigPath },
        namespace: NAMESPACE,
        image: 'registry.example.com/remotegpu:test',
        gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
        gpuTolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        crashLoopRestarts: 2,
        ...overrides,
      });
      runtimes.push(runtime);
      return runtime;
    },
    async cleanup() {
      await Promise.all(runtimes.map((r) => r.stop()));
      await kube!.stop();
      await dir.cleanup();
    },
  };
}

/** Objects of the service still in the fake's store, by kind (what `kubectl get all,secrets -l …` would list). */
export function leftovers(kube: FakeKubeApiServer, serviceId: string): string[] {
  const kinds = ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'Secret'];
  return kinds.flatMap((kind) =>
    kube
      .list(kind, NAMESPACE)
      .filter((o) => o.metadata.labels?.['remotegpu.io/service-id'] === serviceId)
      .map((o) => `${kind}/${o.metadata.name}`),
  );
}
