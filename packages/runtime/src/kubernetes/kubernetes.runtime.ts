import type { KubernetesObject, V1Deployment, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type {
  ReplicaLogFollow,
  ReplicaLogLine,
  ReplicaLogQuery,
  Runtime,
  RuntimeCapacity,
  RuntimeObservation,
  RuntimeServiceSpec,
} from '../runtime.port.js';
import { followPodLogs, readPodLogs } from './kubernetes.logs.js';
import { KubeApi, loadKubeConfig, statusOf } from './kube.api.js';
import { ResourceCache, type CacheEvent } from './kube.cache.js';
import {
  buildArtifactSecret,
  buildDeployment,
  buildService,
  needsToken,
  specHashOf,
  tokenArtifactKey,
} from './kubernetes.manifest.js';
import {
  ANNOTATIONS,
  artifactSecretName,
  deploymentName,
  GPU_RESOURCE,
  LABELS,
  MANAGED_SELECTOR,
  serviceName,
  serviceSelector,
} from './kubernetes.names.js';
import { resolveKubernetesOptions, type KubernetesRuntimeOptions, type ResolvedKubernetesRuntimeOptions } from './kubernetes.options.js';
import { generationOf, observationOf } from './observation.mapping.js';

type State = 'new' | 'running' | 'stopped';

interface Caches {
  deployments: ResourceCache<V1Deployment>;
  pods: ResourceCache<V1Pod>;
  services: ResourceCache<V1Service>;
  secrets: ResourceCache<V1Secret>;
}

/**
 * The `kubernetes` runtime (DESIGN §6): per service a Deployment, a Service and, for artifacts behind the gateway,
 * a Secret with the artifact token. Kubernetes runs the replicas (scheduling, restarts, rolling updates with
 * maxSurge 1 / maxUnavailable 0); this adapter only states what should exist and reads back what does.
 *
 * Reads come from informers (list + watch), never from a request per reconcile: `observe`, `services` and the
 * compare-before-write of `apply` cost no API call, so a resync over hundreds of unchanged services makes no
 * request at all. A write happens only when the object's spec-hash annotation (or its replica count, the one
 * field people change by hand) differs from the desired one.
 */
export class KubernetesRuntime implements Runtime {
  readonly kind = 'kubernetes' as const;
  private readonly options: ResolvedKubernetesRuntimeOptions;
  private readonly listeners = new Set<(serviceId: string) => void>();
  /**
   * What this process wrote and the informer has not shown yet (`kind/name` → the server's answer), so that an
   * apply right after a write does not write again. Dropped once the cache shows the same hash and count, or the
   * object is deleted.
   */
  private readonly written = new Map<string, KubernetesObject>();
  /** `kind/serviceId` whose deletion the API server accepted: `remove` does not ask again while the cache catches up. */
  private readonly deleting = new Set<string>();
  private api: KubeApi | null = null;
  private caches: Caches | null = null;
  private relistTimer: NodeJS.Timeout | null = null;
  private state: State = 'new';
  private starting: Promise<void> | null = null;

  constructor(options: KubernetesRuntimeOptions) {
    this.options = resolveKubernetesOptions(options);
  }

  /** Resolves once every informer has listed and is watching; rejects when the API server cannot be reached. */
  start(): Promise<void> {
    this.starting ??= this.startInformers();
    return this.starting;
  }

  private async startInformers(): Promise<void> {
    const { logger, namespace, requestTimeoutMs } = this.options;
    const api = new KubeApi(loadKubeConfig(this.options.kubeconfig), namespace, requestTimeoutMs);
    const cache = <T extends KubernetesObject>(resource: 'deployments' | 'pods' | 'services' | 'secrets', list: (s: string) => Promise<{ items: T[] }>) =>
      new ResourceCache<T>({
        resource,
        kubeConfig: api.kubeConfig,
        path: api.path(resource),
        list: () => list(MANAGED_SELECTOR),
        labelSelector: MANAGED_SELECTOR,
        logger,
        changed: (serviceId, name, event) => this.changed(resource, serviceId, name, event),
      });
    const caches: Caches = {
      deployments: cache<V1Deployment>('deployments', (s) => api.listDeployments(s)),
      pods: cache<V1Pod>('pods', (s) => api.listPods(s)),
      services: cache<V1Service>('services', (s) => api.listServices(s)),
      secrets: cache<V1Secret>('secrets', (s) => api.listSecrets(s)),
    };
    try {
      await Promise.all(Object.values(caches).map((c: ResourceCache<KubernetesObject>) => c.start()));
    } catch (err) {
      await Promise.all(Object.values(caches).map((c: ResourceCache<KubernetesObject>) => c.stop()));
      throw new Error(`kubernetes runtime: cannot list and watch in namespace ${namespace}: ${describe(err)}`, { cause: err });
    }
    this.api = api;
    this.caches = caches;
    this.state = 'running';
    if (this.options.relistIntervalMs > 0) {
      this.relistTimer = setInterval(() => void this.relist(), this.options.relistIntervalMs);
      this.relistTimer.unref();
    }
    logger.info({ namespace, deployments: caches.deployments.size(), pods: caches.pods.size() }, 'kubernetes runtime started');
  }

  async apply(spec: RuntimeServiceSpec): Promise<void> {
    const { api, caches } = this.running();
    validateSpec(spec);
    for (const kind of ['deployments', 'services', 'secrets']) this.deleting.delete(`${kind}/${spec.serviceId}`);
    const live = this.live<V1Deployment>('deployments', caches.deployments, spec.serviceId, deploymentName(spec.serviceId));
    const liveGeneration = live ? generationOf(live) : null;
    // A late writer (an older generation) must not roll a service back.
    if (liveGeneration !== null && liveGeneration > spec.generation) return;
    // The token first: new pods read it from the Secret when they start.
    if (needsToken(spec)) await this.ensureToken(api, caches, spec);
    await this.converge<V1Deployment>('deployments', caches.deployments, spec.serviceId, deploymentName(spec.serviceId), (current) => buildDeployment(spec, this.options, current), {
      create: (body) => api.createDeployment(body),
      replace: (name, body) => api.replaceDeployment(name, body),
      read: (name) => api.readDeployment(name),
    });
    await this.converge<V1Service>('services', caches.services, spec.serviceId, serviceName(spec.serviceId), (current) => withClusterIp(buildService(spec, this.options), current), {
      create: (body) => api.createService(body),
      replace: (name, body) => api.replaceService(name, body),
      read: (name) => api.readService(name),
    });
  }

  /** Scale to 0; the Deployment (its template, generation and history), the Service and the Secret stay. */
  async pause(serviceId: string): Promise<void> {
    const { api, caches } = this.running();
    const name = deploymentName(serviceId);
    let live = this.live<V1Deployment>('deployments', caches.deployments, serviceId, name);
    for (let attempt = 1; live && (live.spec?.replicas ?? 1) !== 0 && !live.metadata?.deletionTimestamp; attempt++) {
      try {
        const scaled: V1Deployment = { ...live, spec: { ...live.spec!, replicas: 0 } };
        this.remember('deployments', await api.replaceDeployment(name, scaled));
        return;
      } catch (err) {
        if (statusOf(err) === 404) return;
        if (statusOf(err) !== 409 || attempt >= 3) throw err;
        live = await api.readDeployment(name).catch((e: unknown) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
      }
    }
  }

  /**
   * Deletes everything carrying the service's label (Deployment, Service, Secret; the garbage collector takes the
   * ReplicaSets and pods). Returns at once; `observe` shows the pods terminating until they are gone. No request
   * when the caches hold nothing of the service (or only objects already being deleted).
   */
  async remove(serviceId: string): Promise<void> {
    const { api, caches } = this.running();
    const selector = serviceSelector(serviceId);
    const holds = (kind: keyof Caches) =>
      !this.deleting.has(`${kind}/${serviceId}`) &&
      (caches[kind].forService(serviceId).some((o) => !o.metadata?.deletionTimestamp) ||
        [...this.written.keys()].some((key) => key.startsWith(`${kind}/`) && this.writtenFor(key, serviceId)));
    const deleteAll = async (kind: keyof Caches, call: (selector: string) => Promise<void>) => {
      if (!holds(kind)) return;
      await call(selector);
      this.deleting.add(`${kind}/${serviceId}`);
    };
    for (const key of [...this.written.keys()]) if (this.writtenFor(key, serviceId)) this.written.delete(key);
    await Promise.all([
      deleteAll('deployments', (s) => api.deleteDeployments(s)),
      deleteAll('services', (s) => api.deleteServices(s)),
      deleteAll('secrets', (s) => api.deleteSecrets(s)),
    ]);
  }

  async observe(serviceId: string): Promise<RuntimeObservation> {
    const { caches } = this.running();
    const deployment = caches.deployments.get(serviceId, deploymentName(serviceId));
    return observationOf(serviceId, deployment, caches.pods.forService(serviceId), { crashLoopRestarts: this.options.crashLoopRestarts });
  }

  async logs(serviceId: string, query: ReplicaLogQuery): Promise<ReplicaLogLine[]> {
    const { api, caches } = this.running();
    return readPodLogs(api, this.podNames(caches, serviceId), query);
  }

  async followLogs(serviceId: string, query: ReplicaLogQuery, onLine: (line: ReplicaLogLine) => void): Promise<ReplicaLogFollow> {
    const { api, caches } = this.running();
    return followPodLogs(api, () => this.podNames(caches, serviceId), query, onLine);
  }

  private podNames(caches: Caches, serviceId: string): string[] {
    return caches.pods.forService(serviceId).map((pod) => pod.metadata?.name ?? '').filter((name) => name !== '');
  }

  async services(): Promise<string[]> {
    const { caches } = this.running();
    return [...new Set([...caches.deployments.serviceIds(), ...caches.pods.serviceIds()])];
  }

  /**
   * GPUs of the nodes replicas may use (the GPU node selector): their allocatable `nvidia.com/gpu`, less what the
   * platform's own pods bound to them hold. Pods of other tenants of the cluster are not counted (the adapter
   * cannot see them), so `freeGpus` is an upper bound. One request; nothing calls it per reconcile.
   */
  async capacity(): Promise<RuntimeCapacity> {
    const { api, caches } = this.running();
    const selector = Object.entries(this.options.gpuNodeSelector).map(([k, v]) => `${k}=${v}`).join(',');
    const nodes = (await api.listNodes(selector || undefined)).items;
    const gpuNodes = new Set<string>();
    let gpus = 0;
    for (const node of nodes) {
      const count = Number(node.status?.allocatable?.[GPU_RESOURCE] ?? 0);
      if (count > 0 && node.metadata?.name) {
        gpus += count;
        gpuNodes.add(node.metadata.name);
      }
    }
    let used = 0;
    for (const serviceId of caches.pods.serviceIds()) {
      for (const pod of caches.pods.forService(serviceId)) {
        const phase = pod.status?.phase;
        if (!pod.spec?.nodeName || !gpuNodes.has(pod.spec.nodeName) || phase === 'Succeeded' || phase === 'Failed') continue;
        used += Number(pod.spec.containers?.[0]?.resources?.limits?.[GPU_RESOURCE] ?? 0);
      }
    }
    return { gpus, freeGpus: Math.max(0, gpus - used) };
  }

  onChange(listener: (serviceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the informers; the replicas keep running (they belong to the cluster, not to this process). */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.state = 'stopped';
    if (this.relistTimer) clearInterval(this.relistTimer);
    this.relistTimer = null;
    const caches = this.caches;
    if (caches) await Promise.all(Object.values(caches).map((c: ResourceCache<KubernetesObject>) => c.stop()));
    this.options.logger.info('kubernetes runtime stopped');
  }

  /** Requests made so far by `verb group/resource`, and the informers' lists (for the benchmark and tests). */
  stats(): { calls: Record<string, number>; writes: number; informerLists: number; cachedObjects: number } {
    const caches = this.caches;
    const all = caches ? Object.values(caches) as ResourceCache<KubernetesObject>[] : [];
    return {
      calls: Object.fromEntries(this.api?.calls ?? []),
      writes: this.api?.writes() ?? 0,
      informerLists: all.reduce((n, c) => n + c.listCalls, 0),
      cachedObjects: all.reduce((n, c) => n + c.size(), 0),
    };
  }

  /** A fresh list of every informer (also on a timer): what a silently broken watch missed shows up. */
  async relist(): Promise<void> {
    const caches = this.caches;
    if (!caches || this.state !== 'running') return;
    this.written.clear();
    for (const cache of Object.values(caches) as ResourceCache<KubernetesObject>[]) {
      await cache.relist().catch((err: unknown) => this.options.logger.warn({ err: describe(err) }, 'informer re-list failed'));
    }
  }

  /** Create when missing, replace when the hash or the replica count differ, nothing otherwise. */
  private async converge<T extends KubernetesObject & { spec?: unknown }>(
    kind: keyof Caches,
    cache: ResourceCache<T>,
    serviceId: string,
    name: string,
    desiredFor: (current: T | undefined) => T,
    calls: { create: (body: T) => Promise<T>; replace: (name: string, body: T) => Promise<T>; read: (name: string) => Promise<T> },
  ): Promise<void> {
    let current = this.live<T>(kind, cache, serviceId, name);
    for (let attempt = 1; ; attempt++) {
      const desired = desiredFor(current);
      if (current && !differs(current, desired)) return;
      try {
        const written = current
          ? await calls.replace(name, { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } })
          : await calls.create(desired);
        this.remember(kind, written);
        return;
      } catch (err) {
        const status = statusOf(err);
        // 409: created meanwhile (our cache was behind) or a stale resourceVersion; 404: deleted meanwhile.
        if ((status !== 409 && status !== 404) || attempt >= 3) throw err;
        current = status === 404 ? undefined : await calls.read(name).catch((e: unknown) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
      }
    }
  }

  /** The token Secret exists, opens this artifact, and has more than half of its life left; else a fresh token. */
  private async ensureToken(api: KubeApi, caches: Caches, spec: RuntimeServiceSpec): Promise<void> {
    const issuer = this.options.artifactTokens;
    if (!issuer) {
      throw new Error('the model artifact is served by the gateway with a token, but the kubernetes runtime has no artifact token issuer (RGPU_ARTIFACT_SECRET or RGPU_JWT_SECRET)');
    }
    const name = artifactSecretName(spec.serviceId);
    const now = Date.now();
    const fresh = (secret: V1Secret | undefined) => {
      const notes = secret?.metadata?.annotations ?? {};
      const expiresAt = Number(notes[ANNOTATIONS.tokenExpiresAt]);
      const issuedAt = Number(notes[ANNOTATIONS.tokenIssuedAt]);
      return notes[ANNOTATIONS.tokenArtifact] === tokenArtifactKey(spec) && expiresAt - now > (expiresAt - issuedAt) / 2;
    };
    await this.converge<V1Secret>('secrets', caches.secrets, spec.serviceId, name, (current) => {
      if (current && fresh(current)) return current;
      const token = issuer.issue({ modelId: spec.model.modelId, version: spec.model.version, sha256: spec.model.artifact.sha256 });
      return buildArtifactSecret(spec, this.options, { ...token, issuedAt: now });
    }, {
      create: (body) => api.createSecret(body),
      replace: (n, body) => api.replaceSecret(n, body),
      read: (n) => api.readSecret(n),
    });
  }

  /** The cached object, or what this process wrote when the cache has not caught up with it yet. */
  private live<T extends KubernetesObject>(kind: keyof Caches, cache: ResourceCache<T>, serviceId: string, name: string): T | undefined {
    const cached = cache.get(serviceId, name);
    const mine = this.written.get(`${kind}/${name}`) as T | undefined;
    if (!mine) return cached;
    if (cached && !differs(cached, mine)) {
      this.written.delete(`${kind}/${name}`);
      return cached;
    }
    return mine;
  }

  private remember(kind: keyof Caches, obj: KubernetesObject): void {
    if (obj.metadata?.name) this.written.set(`${kind}/${obj.metadata.name}`, obj);
  }

  private writtenFor(key: string, serviceId: string): boolean {
    const obj = this.written.get(key);
    return obj?.metadata?.labels?.[LABELS.serviceId] === serviceId;
  }

  private changed(kind: keyof Caches, serviceId: string, name: string, event: CacheEvent): void {
    // Deleted behind our back (kubectl delete): what we wrote before must not hide that the object is gone.
    if (event === 'delete') this.written.delete(`${kind}/${name}`);
    if (this.caches && this.caches[kind].forService(serviceId).length === 0) this.deleting.delete(`${kind}/${serviceId}`);
    if (kind === 'secrets') return;
    for (const listener of [...this.listeners]) {
      try {
        listener(serviceId);
      } catch (err) {
        this.options.logger.error({ err, serviceId }, 'runtime change listener threw');
      }
    }
  }

  private running(): { api: KubeApi; caches: Caches } {
    if (this.state !== 'running' || !this.api || !this.caches) throw new Error(`kubernetes runtime is ${this.state}, not running`);
    return { api: this.api, caches: this.caches };
  }
}

/** Differs in what the adapter decides by: the hash of what it wrote, and the replica count people scale by hand. */
function differs(live: KubernetesObject & { spec?: unknown }, desired: KubernetesObject & { spec?: unknown }): boolean {
  if (specHashOf(live) !== specHashOf(desired)) return true;
  const replicas = (o: { spec?: unknown }) => (o.spec as { replicas?: number } | undefined)?.replicas;
  return replicas(live) !== replicas(desired);
}

/** A Service's clusterIP is immutable and assigned by the server: a replace carries the live one. */
function withClusterIp(desired: V1Service, live: V1Service | undefined): V1Service {
  if (!live?.spec?.clusterIP) return desired;
  return { ...desired, spec: { ...desired.spec, clusterIP: live.spec.clusterIP, clusterIPs: live.spec.clusterIPs } };
}

function validateSpec(spec: RuntimeServiceSpec): void {
  const problems: string[] = [];
  if (!/^[a-z]([-a-z0-9]{0,53}[a-z0-9])?$/.test(spec.serviceId)) problems.push(`serviceId "${spec.serviceId}" is not a DNS label`);
  if (!Number.isInteger(spec.replicas) || spec.replicas < 0) problems.push(`replicas must be a non-negative integer, got ${spec.replicas}`);
  if (!Number.isInteger(spec.gpu) || spec.gpu < 0) problems.push(`gpu must be a non-negative integer, got ${spec.gpu}`);
  if (!(spec.cpu > 0) || !(spec.memory > 0)) problems.push('cpu and memory must be positive');
  if (!Number.isInteger(spec.generation)) problems.push(`generation must be an integer, got ${spec.generation}`);
  if (spec.model.artifact.uri.startsWith('file:')) {
    problems.push(`the model artifact ${spec.model.artifact.uri} is a file on the provisioner's host, which pods cannot read; deliver artifacts through the gateway (RGPU_ARTIFACT_BASE_URL)`);
  }
  if (problems.length) throw new Error(`kubernetes runtime: cannot apply ${spec.serviceId}: ${problems.join('; ')}`);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
