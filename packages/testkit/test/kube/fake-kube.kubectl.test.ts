import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../src/kube/index.js';
import { tempDir, type TempDir } from '../../src/temp.js';
import { deploymentManifest } from './fake-kube.support.js';

/**
 * The fake checked by the real kubectl (1.32 on these machines): discovery, list, apply (client-side, with its
 * strategic merge patch and server-side field validation), describe, rollout status (list + watch with field
 * selectors and bookmarks), label and field selectors. Where kubectl is not installed the suite says so and skips.
 */

function kubectlVersion(): Promise<string | undefined> {
  return new Promise((resolve) => execFile('kubectl', ['version', '--client', '-o', 'json'], { timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : stdout)));
}

const hasKubectl = (await kubectlVersion()) !== undefined;
if (!hasKubectl) console.warn('kubectl is not on PATH: the kubectl fidelity tests of the fake kube-apiserver are SKIPPED');

let kube: FakeKubeApiServer;
let dir: TempDir;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // Async on purpose: the fake serves from this process, a synchronous exec would block it.
    execFile('kubectl', args, { timeout: 30_000, env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, KUBECACHEDIR: join(dir.path, 'cache'), HOME: dir.path } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!hasKubectl)('kubectl against the fake kube-apiserver', () => {
  beforeAll(async () => {
    dir = await tempDir('rgpu-kubectl-');
    kube = await startFakeKubeApiServer({
      nodes: [{ name: 'gpu-1', gpus: 1 }],
      timing: { startMs: 20, readyMs: 300 },
      progressDeadlineScale: 0.002,
    });
  });
  afterAll(async () => {
    await kube?.stop();
    await dir?.cleanup();
  });

  test('apply creates, a second apply of the same manifest is unchanged, and a changed one is patched', async () => {
    const manifest = join(dir.path, 'web.json');
    await writeFile(manifest, JSON.stringify(deploymentManifest('web', { replicas: 2 })));
    const first = await kubectl('apply', '-f', manifest);
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('deployment.apps/web created');
    const second = await kubectl('apply', '-f', manifest);
    expect(second.stdout.trim()).toBe('deployment.apps/web unchanged');
    expect(second.stderr).toBe('');
    const before = kube.writesSince(0).length;

    // A new image: kubectl sends a strategic merge patch computed from its last-applied annotation.
    const changed = deploymentManifest('web', { replicas: 2, image: 'model-server:2.0' });
    await writeFile(manifest, JSON.stringify(changed));
    const third = await kubectl('apply', '-f', manifest);
    expect(third.stdout.trim()).toBe('deployment.apps/web configured');
    const writes = kube.writesSince(0).slice(before).filter((w) => w.resource === 'deployments.apps');
    expect(writes.map((w) => w.verb)).toEqual(['patch']);
    const live = kube.get('Deployment', 'default', 'web') as unknown as { metadata: { generation: number; annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string; ports: unknown }[] } } } };
    expect(live.metadata.generation).toBe(2);
    expect(live.spec.template.spec.containers).toHaveLength(1);
    expect(live.spec.template.spec.containers[0].image).toBe('model-server:2.0');
    expect(live.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(JSON.parse(live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).spec.template.spec.containers[0].image).toBe('model-server:2.0');
  });

  test('rollout status waits for the rolling update and reports success', async () => {
    const run = await kubectl('rollout', 'status', 'deployment/web', '--timeout=20s');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deployment "web" successfully rolled out');
    // It watched (the rollout had not finished when it started: ready takes 300 ms per pod).
    expect(run.stdout).toMatch(/Waiting for deployment "web" rollout to finish/);
  });

  test('get -o json lists pods and deployments as a cluster would', async () => {
    const run = await kubectl('get', 'pods,deployments', '-o', 'json');
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as { kind: string; items: { kind: string; metadata: { name: string; labels: Record<string, string> }; status: { phase?: string; readyReplicas?: number } }[] };
    expect(list.kind).toBe('List');
    const pods = list.items.filter((i) => i.kind === 'Pod');
    const deployments = list.items.filter((i) => i.kind === 'Deployment');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata.labels['pod-template-hash']).toBeTruthy();
      expect(pod.status.phase).toBe('Running');
    }
    expect(deployments.map((d) => [d.metadata.name, d.status.readyReplicas])).toEqual([['web', 2]]);
  });

  test('describe deployment shows the replica counts, conditions, both ReplicaSets and the scaling events', async () => {
    const run = await kubectl('describe', 'deployment', 'web');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
    expect(run.stdout).toMatch(/RollingUpdateStrategy:\s+0 max unavailable, 1 max surge/);
    expect(run.stdout).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(run.stdout).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
    expect(run.stdout).toMatch(/NewReplicaSet:\s+web-\w+ \(2\/2 replicas created\)/);
    expect(run.stdout).toMatch(/Scaled up replica set web-\w+ from 0 to 1/);
    expect(run.stdout).toMatch(/Scaled down replica set web-\w+ from 2 to 1/);
  });

  test('a pod that does not fit is listed by -l and --field-selector status.phase=Pending, and described with FailedScheduling', async () => {
    const manifest = join(dir.path, 'gpu.json');
    await writeFile(manifest, JSON.stringify(deploymentManifest('gpu', { replicas: 2, gpus: 1 })));
    expect((await kubectl('apply', '-f', manifest)).code).toBe(0);
    await kube.waitFor(() => kube.list('Pod', 'default').filter((p) => p.metadata.labels?.app === 'gpu' && (p as unknown as { spec: { nodeName?: string } }).spec.nodeName).length === 1, 5_000, 'one GPU pod bound');
    await kube.waitFor(() => kube.list('Event', 'default').some((e) => (e as unknown as { reason: string }).reason === 'FailedScheduling'), 5_000, 'FailedScheduling');

    const pending = await kubectl('get', 'pods', '-l', 'app=gpu', '--field-selector', 'status.phase=Pending', '-o', 'name');
    expect(pending.code).toBe(0);
    const names = pending.stdout.trim().split('\n');
    expect(names).toHaveLength(1);
    const running = await kubectl('get', 'pods', '-l', 'app in (gpu)', '--field-selector', 'status.phase!=Pending', '-o', 'name');
    expect(running.stdout.trim().split('\n')).toHaveLength(1);
    expect(running.stdout).not.toContain(names[0]);

    // Without -o, kubectl asks the server for a Table: the STATUS column a person would read.
    const table = await kubectl('get', 'pods', '-l', 'app=gpu');
    const rows = table.stdout.trim().split('\n');
    expect(rows[0].split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[2]).sort()).toEqual(['Pending', 'Running']);

    const described = await kubectl('describe', names[0]);
    expect(described.stdout).toMatch(/Status:\s+Pending/);
    expect(described.stdout).toMatch(/PodScheduled\s+False/);
    expect(described.stdout).toContain('FailedScheduling');
    expect(described.stdout.replace(/\s+/g, ' ')).toContain('0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..');
  });

  test('rollout status fails when the rollout exceeds its progress deadline', async () => {
    // 600 s × 0.002 = 1.2 s: the second GPU pod never schedules, so the rollout stalls.
    const run = await kubectl('rollout', 'status', 'deployment/gpu', '--timeout=20s');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('deployment "gpu" exceeded its progress deadline');
  });

  test('errors reach kubectl as the real server words them', async () => {
    const missing = await kubectl('get', 'deployment', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nope" not found');
    const badSelector = await kubectl('get', 'pods', '--field-selector', 'spec.image=x');
    expect(badSelector.stderr).toContain('field label not supported: spec.image');
  });
});
