import { AppsV1Api, CoreV1Api, KubeConfig, makeInformer, ApiException, type V1Pod, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../src/kube/index.js';
import { deploymentManifest } from './fake-kube.support.js';

/**
 * The fake checked by @kubernetes/client-node 2, a client nobody here wrote: its typed APIs and errors, and its
 * informer (list + watch) through adds, updates, deletes and a compacted watch history (410 → re-list).
 */

let kube: FakeKubeApiServer;
let kc: KubeConfig;

beforeAll(async () => {
  // requireToken: client-node sends the kubeconfig's token even over http, so the fake can insist on it here.
  kube = await startFakeKubeApiServer({ namespaces: ['informers'], requireToken: true, timing: { startMs: 5, readyMs: 20 } });
  kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
});

afterAll(async () => kube?.stop());

async function until(check: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('client-node typed API', () => {
  test('a replace with a stale resourceVersion is a 409 Conflict Status; the fresh one succeeds', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const created = await apps.createNamespacedDeployment({ namespace: 'default', body: deploymentManifest('stale-write') as V1Deployment });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    const first = await apps.readNamespacedDeployment({ name: 'stale-write', namespace: 'default' });
    // Read-modify-write as controllers do it: the simulated controllers write status meanwhile, so a conflict
    // here is possible and the answer is to read again.
    for (let attempt = 0; ; attempt++) {
      const latest = await apps.readNamespacedDeployment({ name: 'stale-write', namespace: 'default' });
      const done = await apps.replaceNamespacedDeployment({ name: 'stale-write', namespace: 'default', body: { ...latest, spec: { ...latest.spec!, replicas: 2 } } }).catch((e: unknown) => {
        if (e instanceof ApiException && e.code === 409 && attempt < 5) return undefined;
        throw e;
      });
      if (done) break;
    }

    const stale = await apps.replaceNamespacedDeployment({ name: 'stale-write', namespace: 'default', body: { ...first, spec: { ...first.spec!, replicas: 3 } } }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ApiException);
    const error = stale as ApiException<string>;
    expect(error.code).toBe(409);
    const status = JSON.parse(error.body);
    expect(status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      details: { name: 'stale-write', group: 'apps', kind: 'deployments' },
      message: 'Operation cannot be fulfilled on deployments.apps "stale-write": the object has been modified; please apply your changes to the latest version and try again',
    });

    const fresh = await apps.readNamespacedDeployment({ name: 'stale-write', namespace: 'default' });
    expect(fresh.spec?.replicas).toBe(2);
    expect(fresh.metadata?.generation).toBe(2);
    // Without a resourceVersion a PUT is unconditional (AllowUnconditionalUpdate), as on a real server.
    const unconditional = await apps.replaceNamespacedDeployment({ name: 'stale-write', namespace: 'default', body: { ...fresh, metadata: { ...fresh.metadata, resourceVersion: undefined }, spec: { ...fresh.spec!, replicas: 3 } } });
    expect(unconditional.spec?.replicas).toBe(3);
    expect(Number(unconditional.metadata?.resourceVersion)).toBeGreaterThan(Number(fresh.metadata?.resourceVersion));
  });

  test('404 and 409 AlreadyExists come back as the real server words them', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const missing = (await core.readNamespacedPod({ name: 'nope', namespace: 'default' }).catch((e: unknown) => e)) as ApiException<string>;
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });
    const body = { metadata: { name: 'twice' }, data: { a: '1' } };
    await core.createNamespacedConfigMap({ namespace: 'default', body });
    const again = (await core.createNamespacedConfigMap({ namespace: 'default', body }).catch((e: unknown) => e)) as ApiException<string>;
    expect(again.code).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "twice" already exists', details: { name: 'twice', kind: 'configmaps' } });
  });

  test('a request with a wrong token is 401', async () => {
    const other = new KubeConfig();
    other.loadFromString(kube.kubeconfig.replace('"fake-token"', '"wrong-token"'));
    const error = (await other.makeApiClient(CoreV1Api).listNamespace().catch((e: unknown) => e)) as ApiException<string>;
    expect(error.code).toBe(401);
  });
});

describe('client-node informer', () => {
  test('sees pods added, updated and deleted, and keeps going through a watch expiry (410 → re-list)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const namespace = 'informers';
    const informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace }));
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (pod: V1Pod) => seen.push(`add ${pod.metadata?.name}`));
    informer.on('update', (pod: V1Pod) => seen.push(`update ${pod.metadata?.name} ${pod.status?.phase}`));
    informer.on('delete', (pod: V1Pod) => seen.push(`delete ${pod.metadata?.name}`));
    informer.on('error', (e: unknown) => errors.push(e));
    await informer.start();
    try {
      await apps.createNamespacedDeployment({ namespace, body: deploymentManifest('watched', { replicas: 2 }) as V1Deployment });
      await until(() => informer.list(namespace).filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 2, 'two ready pods in the informer cache');
      expect(seen.filter((s) => s.startsWith('add ')).length).toBe(2);
      expect(seen.some((s) => s.startsWith('update ') && s.endsWith(' Running'))).toBe(true);

      // Compaction: the open watch ends with an ERROR 410 and the informer must re-list to keep a true cache.
      const listsBefore = kube.requests.filter((r) => r.verb === 'list' && r.path.endsWith(`/${namespace}/pods`)).length;
      kube.expireWatchHistory();
      const victim = informer.list(namespace)[0].metadata!.name!;
      await core.deleteNamespacedPod({ name: victim, namespace });
      await until(() => kube.requests.filter((r) => r.verb === 'list' && r.path.endsWith(`/${namespace}/pods`)).length > listsBefore, 're-list after 410');
      await until(() => !informer.list(namespace).some((p) => p.metadata?.name === victim), 'the deleted pod to leave the cache');
      expect(seen).toContain(`delete ${victim}`);
      // The ReplicaSet's replacement arrives through the new watch.
      await until(() => informer.list(namespace).length === 2 && informer.list(namespace).every((p) => p.status?.phase === 'Running'), 'the replacement pod in the cache');

      // After the re-list the watch goes on: deleting the deployment removes its pods (GC), and the informer sees it.
      await apps.deleteNamespacedDeployment({ name: 'watched', namespace });
      await until(() => informer.list(namespace).length === 0, 'the cache to empty after the deployment is deleted');
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
