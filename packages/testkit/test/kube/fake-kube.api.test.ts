import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../src/kube/index.js';
import { deploymentManifest, kubeClient } from './fake-kube.support.js';

/** The API server's semantics over HTTP: the rules a client's code depends on, with the real server's bodies. */

let kube: FakeKubeApiServer;
let api: ReturnType<typeof kubeClient>;

beforeAll(async () => {
  kube = await startFakeKubeApiServer({ namespaces: ['api'], bookmarkIntervalMs: 50, timing: { startMs: 5, readyMs: 10 } });
  api = kubeClient(kube);
});
afterAll(async () => kube?.stop());

const DEPLOYMENTS = '/apis/apps/v1/namespaces/api/deployments';

interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> } };
}

/** Opens a watch and collects its events until the server ends it or `until` holds. */
function watch(path: string, until: (events: WatchEvent[]) => boolean = () => false, timeoutMs = 5_000): Promise<{ events: WatchEvent[]; endedByServer: boolean; headersAt: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${kube.url}${path}`);
    const started = Date.now();
    const req = request(url, { headers: { authorization: `Bearer ${kube.token}` } }, (res) => {
      const headersAt = Date.now() - started;
      const events: WatchEvent[] = [];
      let buffer = '';
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ events, endedByServer: false, headersAt });
      }, timeoutMs);
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)) as WatchEvent);
          buffer = buffer.slice(nl + 1);
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ events, endedByServer: false, headersAt });
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ events, endedByServer: true, headersAt });
      });
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
    req.end();
  });
}

describe('CRUD and optimistic concurrency', () => {
  test('create fills uid, resourceVersion, creationTimestamp, generation and the defaults a cluster adds; list items carry no kind', async () => {
    const created = await api.post(DEPLOYMENTS, deploymentManifest('crud'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'crud', namespace: 'api', generation: 1, uid: expect.stringMatching(/^[0-9a-f-]{36}$/), resourceVersion: expect.stringMatching(/^\d+$/), creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(created.body.spec).toMatchObject({ revisionHistoryLimit: 10, progressDeadlineSeconds: 600, template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 } } });
    expect(created.body.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' });
    const list = await api.get(DEPLOYMENTS);
    expect(list.body).toMatchObject({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: expect.any(String) } });
    expect(list.body.items[0].kind).toBeUndefined();
    expect(list.body.items[0].metadata.name).toBe('crud');
    // dryRun=All (kubectl --dry-run=server): validated and defaulted, answered, not stored.
    const dry = await api.post(`${DEPLOYMENTS}?dryRun=All`, deploymentManifest('dry'));
    expect(dry.status).toBe(201);
    expect(dry.body.spec.revisionHistoryLimit).toBe(10);
    expect((await api.get(`${DEPLOYMENTS}/dry`)).status).toBe(404);
    expect((await api.post(`${DEPLOYMENTS}?dryRun=All`, deploymentManifest('crud'))).status).toBe(409);
  });

  test('a spec change bumps generation, a label or status change does not; a PUT with a stale resourceVersion is 409', async () => {
    const current = (await api.get(`${DEPLOYMENTS}/crud`)).body;
    const labelled = await api.patch(`${DEPLOYMENTS}/crud`, { metadata: { labels: { tier: 'x' } } });
    expect(labelled.body.metadata.generation).toBe(1);
    const statusPatch = await api.patch(`${DEPLOYMENTS}/crud/status`, { status: { observedGeneration: 99 } });
    expect(statusPatch.body.metadata.generation).toBe(1);
    const stale = await api.put(`${DEPLOYMENTS}/crud`, { ...current, spec: { ...current.spec, replicas: 4 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Operation cannot be fulfilled on deployments.apps "crud": the object has been modified; please apply your changes to the latest version and try again', reason: 'Conflict', details: { name: 'crud', group: 'apps', kind: 'deployments' }, code: 409 });
    // Read-modify-write: the simulated controllers write the object's status meanwhile, so retry on 409.
    let put = { status: 409, body: undefined as any };
    for (let attempt = 0; put.status === 409 && attempt < 5; attempt++) {
      const fresh = (await api.get(`${DEPLOYMENTS}/crud`)).body;
      put = await api.put(`${DEPLOYMENTS}/crud`, { ...fresh, spec: { ...fresh.spec, replicas: 4 }, status: { replicas: 1234 } });
    }
    expect(put.status).toBe(200);
    expect(put.body.metadata.generation).toBe(2);
    expect(put.body.status.replicas).not.toBe(1234); // the main resource ignores status
    const precondition = await api.patch(`${DEPLOYMENTS}/crud`, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { replicas: 5 } });
    expect(precondition.status).toBe(409);
  });

  test('422 Invalid names each bad field; a missing namespace is 404; a duplicate is 409 AlreadyExists', async () => {
    const manifest = deploymentManifest('bad');
    manifest.spec.template.metadata.labels = { app: 'other' };
    (manifest.spec as Record<string, unknown>).replicas = -1;
    const invalid = await api.post(DEPLOYMENTS, manifest);
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, details: { name: 'bad', group: 'apps', kind: 'Deployment' } });
    expect(invalid.body.message).toMatch(/^Deployment\.apps "bad" is invalid: \[spec\.replicas: Invalid value: -1: must be greater than or equal to 0, spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`\]$/);
    expect(invalid.body.details.causes.map((c: { field: string; reason: string }) => `${c.reason} ${c.field}`)).toEqual(['FieldValueInvalid spec.replicas', 'FieldValueInvalid spec.template.metadata.labels']);
    const badName = await api.post('/api/v1/namespaces/api/configmaps', { metadata: { name: 'Not_Valid' } });
    expect(badName.status).toBe(422);
    expect(badName.body.details.causes[0].field).toBe('metadata.name');
    const gpuWithoutLimit = deploymentManifest('gpu-request');
    Object.assign(gpuWithoutLimit.spec.template.spec.containers[0].resources.requests, { 'nvidia.com/gpu': '1' });
    expect((await api.post(DEPLOYMENTS, gpuWithoutLimit)).body.message).toContain('spec.template.spec.containers[0].resources.requests[nvidia.com/gpu]: Invalid value: "1": must be equal to nvidia.com/gpu limit of 0');
    const noNamespace = await api.post('/api/v1/namespaces/ghost/configmaps', { metadata: { name: 'x' } });
    expect(noNamespace.status).toBe(404);
    expect(noNamespace.body.message).toBe('namespaces "ghost" not found');
    const dup = await api.post(DEPLOYMENTS, deploymentManifest('crud'));
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', code: 409, message: 'deployments.apps "crud" already exists' });
    const immutable = await api.patch(`${DEPLOYMENTS}/crud`, { spec: { selector: { matchLabels: { app: 'crud', extra: 'x' } }, template: { metadata: { labels: { app: 'crud', extra: 'x' } } } } });
    expect(immutable.status).toBe(422);
    expect(immutable.body.message).toContain('field is immutable');
  });
});

describe('patches', () => {
  test('strategic merge patch merges containers and env by name and honours $patch: delete; merge patch replaces lists; JSON patch', async () => {
    const manifest = deploymentManifest('patched');
    manifest.spec.template.spec.containers.push({ ...manifest.spec.template.spec.containers[0], name: 'sidecar', image: 'sidecar:1', ports: [{ containerPort: 9090 }] });
    await api.post(DEPLOYMENTS, manifest);
    const smp = await api.patch(`${DEPLOYMENTS}/patched`, { spec: { template: { spec: { containers: [{ name: 'server', env: [{ name: 'A', value: '1' }] }] } } } }, 'application/strategic-merge-patch+json');
    expect(smp.status).toBe(200);
    expect(smp.body.spec.template.spec.containers.map((c: { name: string; image: string; env?: unknown }) => [c.name, c.image, c.env])).toEqual([['server', 'model-server:1.0', [{ name: 'A', value: '1' }]], ['sidecar', 'sidecar:1', undefined]]);
    const removed = await api.patch(`${DEPLOYMENTS}/patched`, { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }, 'application/strategic-merge-patch+json');
    expect(removed.body.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['server']);
    const merge = await api.patch(`${DEPLOYMENTS}/patched`, { metadata: { annotations: { a: 'b' } }, spec: { replicas: 2 } });
    expect(merge.body.metadata.annotations).toEqual({ a: 'b', 'deployment.kubernetes.io/revision': '3' });
    const json = await api.patch(`${DEPLOYMENTS}/patched`, [{ op: 'replace', path: '/spec/replicas', value: 3 }, { op: 'remove', path: '/metadata/annotations/a' }], 'application/json-patch+json');
    expect(json.body.spec.replicas).toBe(3);
    expect(json.body.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '3' });
    const apply = await api.patch(`${DEPLOYMENTS}/patched`, {}, 'application/apply-patch+yaml');
    expect(apply.status).toBe(415);
  });
});

describe('selectors', () => {
  test('label selectors (=, !=, in, notin, exists, !key) and field selectors; unsupported fields are 400', async () => {
    for (const [name, labels] of [['a', { tier: 'web', env: 'prod' }], ['b', { tier: 'db', env: 'prod' }], ['c', { tier: 'web' }]] as const) {
      await api.post('/api/v1/namespaces/api/configmaps', { metadata: { name: `sel-${name}`, labels: { sel: 'yes', ...labels } } });
    }
    const names = async (query: string) => (await api.get(`/api/v1/namespaces/api/configmaps?${query}`)).body.items.map((i: { metadata: { name: string } }) => i.metadata.name).join(',');
    const q = (s: string) => `labelSelector=${encodeURIComponent(s)}`;
    expect(await names(q('sel=yes,tier=web'))).toBe('sel-a,sel-c');
    expect(await names(q('sel=yes,tier!=web'))).toBe('sel-b');
    expect(await names(q('sel,tier in (db, web),env'))).toBe('sel-a,sel-b');
    expect(await names(q('sel,tier notin (web)'))).toBe('sel-b');
    expect(await names(q('sel,!env'))).toBe('sel-c');
    expect(await names(`${q('sel')}&fieldSelector=${encodeURIComponent('metadata.name!=sel-a')}`)).toBe('sel-b,sel-c');
    const bad = await api.get(`/api/v1/namespaces/api/configmaps?fieldSelector=${encodeURIComponent('data.x=1')}`);
    expect(bad.body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: data.x' });
    const unparsable = await api.get(`/api/v1/namespaces/api/configmaps?${q('tier in web')}`);
    expect(unparsable.status).toBe(400);
    const deleted = await api.del(`/api/v1/namespaces/api/configmaps?${q('sel=yes,env=prod')}`);
    expect(deleted.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['sel-a', 'sel-b']);
    expect(await names(q('sel'))).toBe('sel-c');
  });

  test('list pagination with limit and continue', async () => {
    for (let i = 0; i < 5; i++) await api.post('/api/v1/namespaces/api/secrets', { metadata: { name: `page-${i}`, labels: { page: 'yes' } }, stringData: { k: String(i) } });
    const first = await api.get('/api/v1/namespaces/api/secrets?labelSelector=page&limit=2');
    expect(first.body.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(['page-0', 'page-1']);
    expect(first.body.metadata.remainingItemCount).toBe(3);
    const second = await api.get(`/api/v1/namespaces/api/secrets?labelSelector=page&limit=10&continue=${first.body.metadata.continue}`);
    expect(second.body.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(['page-2', 'page-3', 'page-4']);
    expect(second.body.metadata.continue).toBeUndefined();
    expect(second.body.items[0].data.k).toBe(Buffer.from('2').toString('base64'));
  });
});

describe('watch', () => {
  test('headers come at once; events from a resourceVersion; an object leaving the selector is DELETED for that watch', async () => {
    const rv = (await api.get('/api/v1/namespaces/api/configmaps')).body.metadata.resourceVersion;
    const watching = watch(`/api/v1/namespaces/api/configmaps?watch=1&resourceVersion=${rv}&labelSelector=w%3Dyes`, (events) => events.length >= 3);
    await new Promise((r) => setTimeout(r, 30));
    await api.post('/api/v1/namespaces/api/configmaps', { metadata: { name: 'w1', labels: { w: 'yes' } } });
    await api.patch('/api/v1/namespaces/api/configmaps/w1', { data: { x: '1' } });
    await api.patch('/api/v1/namespaces/api/configmaps/w1', { metadata: { labels: { w: 'no' } } });
    const { events, headersAt } = await watching;
    expect(headersAt).toBeLessThan(1_000);
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    expect(events[0].object.kind).toBe('ConfigMap');
    const rvs = events.map((e) => Number(e.object.metadata?.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
  });

  test('bookmarks when allowed; timeoutSeconds ends the stream; a version older than the history is an ERROR 410 Status', async () => {
    const rv = (await api.get('/api/v1/namespaces/api/pods')).body.metadata.resourceVersion;
    const bookmarked = await watch(`/api/v1/namespaces/api/pods?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=1`);
    expect(bookmarked.endedByServer).toBe(true);
    const bookmark = bookmarked.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.any(String) } });

    kube.expireWatchHistory();
    const expired = await watch(`/api/v1/namespaces/api/pods?watch=true&resourceVersion=${rv}`);
    expect(expired.endedByServer).toBe(true);
    expect(expired.events).toEqual([{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringMatching(new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`)), reason: 'Expired', code: 410 } }]);
  });

  test('sendInitialEvents streams the current objects and a bookmark marking their end', async () => {
    const { events } = await watch('/api/v1/namespaces/api/secrets?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true', (ev) => ev.some((e) => e.type === 'BOOKMARK'));
    expect(events.filter((e) => e.type === 'ADDED').length).toBe(5);
    expect(events.find((e) => e.type === 'BOOKMARK')?.object.metadata?.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });
});

describe('discovery and failure injection', () => {
  test('discovery lists kinds, verbs and short names; injected failures answer a Status once', async () => {
    const apps = (await api.get('/apis/apps/v1')).body;
    expect(apps.resources.find((r: { name: string }) => r.name === 'deployments')).toMatchObject({ kind: 'Deployment', namespaced: true, shortNames: ['deploy'], verbs: expect.arrayContaining(['watch', 'patch', 'deletecollection']) });
    expect(apps.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['deployments/status', 'deployments/scale', 'replicasets']));
    expect((await api.get('/version')).body).toMatchObject({ major: '1', minor: '32' });
    kube.injectFailure({ method: 'GET', path: '/configmaps', code: 503, message: 'etcdserver: leader changed', times: 1 });
    const failed = await api.get('/api/v1/namespaces/api/configmaps');
    expect(failed.body).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'etcdserver: leader changed' });
    expect((await api.get('/api/v1/namespaces/api/configmaps')).status).toBe(200);
  });

  test('deleting a namespace removes what is in it', async () => {
    await api.post('/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await api.post('/apis/apps/v1/namespaces/doomed/deployments', deploymentManifest('in-doomed'));
    await kube.waitFor(() => kube.list('Pod', 'doomed').length === 1, 5_000, 'a pod');
    const deleted = await api.del('/api/v1/namespaces/doomed');
    expect(deleted.status).toBe(202);
    expect(deleted.body.status.phase).toBe('Terminating');
    await kube.waitFor(() => !kube.get('Namespace', undefined, 'doomed') && kube.list('Pod', 'doomed').length === 0, 5_000, 'the namespace gone');
  });
});
