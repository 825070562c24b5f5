import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApi } from './kube-api.js';
import { ControlPlane } from './kube-control-plane.js';
import { KubeHttpServer, type InjectedFailure, type RequestRecord } from './kube-http.server.js';
import { nodeObject, type FakeNodeSpec } from './kube-nodes.js';
import { resourceForKind, type ResourceType } from './kube-resources.js';
import { KubeStore } from './kube-store.js';
import type { FailureRule, KubeletTiming, PodFailure, RunPod } from './kubelet.js';
import type { KubeObject, Node } from './kube.types.js';

/**
 * A Kubernetes API server good enough for kubectl and @kubernetes/client-node, with a simulated control plane
 * (deployment and replicaset controllers, scheduler, kubelets, garbage collector) behind it. One per test file:
 * `const kube = await startFakeKubeApiServer({ nodes: [{ name: 'gpu-1', gpus: 1 }] })`, then point a client at
 * `kube.kubeconfigPath` (or `kube.url` with `kube.token`), and `await kube.stop()`.
 */

export interface FakeKubeOptions {
  /** Nodes registered at start (default: one node `node-1`, 8 cpu, 32Gi, no GPU). */
  nodes?: FakeNodeSpec[];
  /** Namespaces created at start besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** The bearer token of the kubeconfig's user (default `fake-token`); a request with another token is 401. */
  token?: string | null;
  /**
   * Refuse requests without a token too (default false: kubectl sends no credentials to an http:// server,
   * so anonymous requests are served as by a cluster allowing anonymous access). client-node does send it.
   */
  requireToken?: boolean;
  port?: number;
  /** Kubelet timings in ms (defaults: start 10, ready 50 after start when a probe is set, back-off 100 → 1600). */
  timing?: Partial<KubeletTiming>;
  /** Multiplies progressDeadlineSeconds (e.g. 0.01: 600 s → 6 s). Default 1. */
  progressDeadlineScale?: number;
  /** Retained watch history (changes); a watch from an older resourceVersion gets 410 Gone. Default 5000. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** How long a bound pod stays Terminating after a graceful delete, in ms (default 0: deleted at once). */
  podTerminationMs?: number;
  /** Failure rules active from the start (see `failPods`). */
  failures?: FailureRule[];
  /** Runs each scheduled pod for real (e.g. a model server on 127.0.0.1); the pod's IP is the process's. */
  runPods?: RunPod;
  /** Errors thrown inside the simulated controllers (default: written to stderr). */
  onControllerError?: (error: unknown) => void;
}

export interface FakeKubeApiServer {
  url: string;
  token: string | undefined;
  /** A kubeconfig for kubectl and client-node: context `fake`, insecure-skip-tls-verify, a token user. */
  kubeconfigPath: string;
  /** The same kubeconfig as YAML text (for `KubeConfig.loadFromString`). */
  kubeconfig: string;
  /** Requests served so far (method, path, verb, resource, code), oldest first. */
  readonly requests: RequestRecord[];
  /** Writes (create/update/patch/delete/deletecollection) among `requests` from index `from` on. */
  writesSince(from?: number): RequestRecord[];

  addNode(spec: FakeNodeSpec): Promise<Node>;
  removeNode(name: string): Promise<void>;
  /** Changes a node's nvidia.com/gpu capacity (and allocatable); pods waiting for GPUs get scheduled if they fit. */
  setNodeGpus(name: string, gpus: number): Promise<void>;

  /** Pods whose container image is `image` (or that carry `labels`) fail as `failure` says; returns an undo. */
  failPods(match: { image?: string; labels?: Record<string, string> }, failure: PodFailure): () => void;
  /** Answers matching requests with an error Status (e.g. `{ path: '/deployments', method: 'PATCH', code: 500, times: 1 }`). */
  injectFailure(failure: InjectedFailure): () => void;
  clearFailures(): void;
  /** Compacts the watch history: open watches end with a 410 ERROR event and old resourceVersions are refused. */
  expireWatchHistory(): void;
  /** Ends every open watch (clients re-watch from where they were, as after an API server restart). */
  closeWatches(): void;

  /** Direct access to stored objects for assertions, without going through HTTP. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string): KubeObject[];
  /** Creates through admission (defaults, validation), as a POST would. */
  create(object: KubeObject): KubeObject;
  /** Deletes as a DELETE with background propagation would. */
  delete(kind: string, namespace: string | undefined, name: string): void;
  /** Resolves once `predicate` holds for the store (polled every 10 ms); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  stop(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startFakeKubeApiServer(options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
  const token = options.token === null ? undefined : (options.token ?? 'fake-token');
  const store = new KubeStore(options.historyLimit ?? 5000);
  const api = new KubeApi(store, { podTerminationMs: options.podTerminationMs ?? 0 });
  const failures: FailureRule[] = [...(options.failures ?? [])];
  const timing: KubeletTiming = { startMs: 10, readyMs: 50, backoffMs: 100, maxBackoffMs: 1600, ...options.timing };
  const controlPlane = new ControlPlane(api, {
    timing,
    failures,
    runPods: options.runPods,
    progressDeadlineScale: options.progressDeadlineScale ?? 1,
    onError: options.onControllerError ?? ((error) => process.stderr.write(`fake kube-apiserver controller error: ${error instanceof Error ? error.stack : String(error)}\n`)),
  });
  const http = new KubeHttpServer(api, {
    token,
    requireToken: options.requireToken ?? false,
    maxBodyBytes: 3 * 1024 * 1024,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    defaultTimeoutSeconds: 1800,
  });

  const nsType = resourceForKind('Namespace');
  for (const name of [...SYSTEM_NAMESPACES, ...(options.namespaces ?? [])]) {
    if (!store.get(nsType, undefined, name)) api.create(nsType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const nodeType = resourceForKind('Node');
  let nodeIndex = 0;
  for (const spec of options.nodes ?? [{ name: 'node-1' }]) store.create(nodeType, nodeObject(spec, nodeIndex++));

  const port = await http.listen(options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'rgpu-fake-kube-'));
  const kubeconfig = kubeconfigYaml(url, token);
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

  const typeOf = (kind: string): ResourceType => resourceForKind(kind);

  return {
    url,
    token,
    kubeconfigPath,
    kubeconfig,
    requests: http.requests,
    writesSince: (from) => http.writesSince(from),
    async addNode(spec) {
      return store.create(nodeType, nodeObject(spec, nodeIndex++)) as Node;
    },
    async removeNode(name) {
      store.remove(nodeType, undefined, name);
    },
    async setNodeGpus(name, gpus) {
      const node = store.mustGet(nodeType, undefined, name) as Node;
      const status = structuredClone(node.status ?? {});
      for (const list of ['capacity', 'allocatable'] as const) {
        const resources = { ...(status[list] ?? {}) };
        if (gpus > 0) resources['nvidia.com/gpu'] = String(gpus);
        else delete resources['nvidia.com/gpu'];
        status[list] = resources;
      }
      store.update(nodeType, { ...node, metadata: { ...node.metadata, resourceVersion: undefined }, status });
    },
    failPods(match, failure) {
      const rule: FailureRule = { ...match, failure };
      failures.push(rule);
      return () => {
        const i = failures.indexOf(rule);
        if (i >= 0) failures.splice(i, 1);
      };
    },
    injectFailure: (failure) => http.injectFailure(failure),
    clearFailures: () => http.clearFailures(),
    expireWatchHistory: () => store.expireHistory(),
    closeWatches: () => http.closeWatches(),
    get: (kind, namespace, name) => store.get(typeOf(kind), namespace, name),
    list: (kind, namespace) => store.list(typeOf(kind), namespace).items,
    create: (object) => api.create(typeOf(object.kind), object.metadata.namespace, object),
    delete: (kind, namespace, name) => void api.delete(typeOf(kind), namespace, name),
    async waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`fake kube-apiserver: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await controlPlane.stop();
      await http.close();
      store.closeWatches();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function kubeconfigYaml(url: string, token: string | undefined): string {
  // JSON is valid YAML: kubectl and client-node both read it, and nothing here needs quoting rules.
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake-user', user: token ? { token } : {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake-user', namespace: 'default' } }],
      'current-context': 'fake',
      preferences: {},
    },
    null,
    2,
  )}\n`;
}


