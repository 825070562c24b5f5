import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
  type KubernetesObject,
  type V1Deployment,
  type V1DeploymentList,
  type V1NodeList,
  type V1PodList,
  type V1Secret,
  type V1SecretList,
  type V1Service,
  type V1ServiceList,
} from '@kubernetes/client-node';
import type { KubeconfigSource } from './kubernetes.options.js';
import type { RbacVerb } from './kubernetes.rbac.js';

/**
 * Every call the adapter makes to the API server, in one place: each has a timeout (an API server that hangs
 * must not hang a reconcile), and `KUBERNETES_RBAC_NEEDS` (kubernetes.rbac.ts) lists exactly these. A test checks
 * the two agree, so a new call cannot slip past the Role.
 */
export class KubeApi {
  readonly kubeConfig: KubeConfig;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly timeoutMs: number,
  ) {
    this.kubeConfig = kubeConfig;
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Requests made, by `verb group/resource` (the benchmark's and the RBAC test's evidence). */
  readonly calls = new Map<string, number>();

  private track<R>(verb: RbacVerb, group: string, resource: string, request: Promise<R>): Promise<R> {
    const key = `${verb} ${group}/${resource}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    return request;
  }

  /** Writes made (create, update, delete): what an unchanged reconcile must not make. */
  writes(): number {
    let n = 0;
    for (const [key, count] of this.calls) if (/^(create|update|patch|delete|deletecollection) /.test(key)) n += count;
    return n;
  }

  /**
   * Per-request options: an abort signal bounds the whole request (connect, headers and body). The object-style
   * API hands these to its Observable layer, so the middleware answers with client-node's Observable.
   */
  private options(): ConfigurationOptions {
    const timeoutMs = this.timeoutMs;
    return {
      middleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return new Observable(Promise.resolve(ctx));
          },
          post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  // deployments.apps: list + watch (informer), get, create, update, deletecollection
  listDeployments(labelSelector: string): Promise<V1DeploymentList> {
    return this.track('list', 'apps', 'deployments', this.apps.listNamespacedDeployment({ namespace: this.namespace, labelSelector }, this.options()));
  }
  readDeployment(name: string): Promise<V1Deployment> {
    return this.track('get', 'apps', 'deployments', this.apps.readNamespacedDeployment({ name, namespace: this.namespace }, this.options()));
  }
  createDeployment(body: V1Deployment): Promise<V1Deployment> {
    return this.track('create', 'apps', 'deployments', this.apps.createNamespacedDeployment({ namespace: this.namespace, body }, this.options()));
  }
  replaceDeployment(name: string, body: V1Deployment): Promise<V1Deployment> {
    return this.track('update', 'apps', 'deployments', this.apps.replaceNamespacedDeployment({ name, namespace: this.namespace, body }, this.options()));
  }
  async deleteDeployments(labelSelector: string): Promise<void> {
    // Background: the API server answers at once; the garbage collector removes ReplicaSets and pods after it.
    await this.track('deletecollection', 'apps', 'deployments', this.apps.deleteCollectionNamespacedDeployment({ namespace: this.namespace, labelSelector, propagationPolicy: 'Background' }, this.options()));
  }

  // services: list + watch (informer), get, create, update, deletecollection
  listServices(labelSelector: string): Promise<V1ServiceList> {
    return this.track('list', '', 'services', this.core.listNamespacedService({ namespace: this.namespace, labelSelector }, this.options()));
  }
  readService(name: string): Promise<V1Service> {
    return this.track('get', '', 'services', this.core.readNamespacedService({ name, namespace: this.namespace }, this.options()));
  }
  createService(body: V1Service): Promise<V1Service> {
    return this.track('create', '', 'services', this.core.createNamespacedService({ namespace: this.namespace, body }, this.options()));
  }
  replaceService(name: string, body: V1Service): Promise<V1Service> {
    return this.track('update', '', 'services', this.core.replaceNamespacedService({ name, namespace: this.namespace, body }, this.options()));
  }
  async deleteServices(labelSelector: string): Promise<void> {
    await this.track('deletecollection', '', 'services', this.core.deleteCollectionNamespacedService({ namespace: this.namespace, labelSelector }, this.options()));
  }

  // secrets (artifact tokens): list + watch (informer), get, create, update, deletecollection
  listSecrets(labelSelector: string): Promise<V1SecretList> {
    return this.track('list', '', 'secrets', this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector }, this.options()));
  }
  readSecret(name: string): Promise<V1Secret> {
    return this.track('get', '', 'secrets', this.core.readNamespacedSecret({ name, namespace: this.namespace }, this.options()));
  }
  createSecret(body: V1Secret): Promise<V1Secret> {
    return this.track('create', '', 'secrets', this.core.createNamespacedSecret({ namespace: this.namespace, body }, this.options()));
  }
  replaceSecret(name: string, body: V1Secret): Promise<V1Secret> {
    return this.track('update', '', 'secrets', this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body }, this.options()));
  }
  async deleteSecrets(labelSelector: string): Promise<void> {
    await this.track('deletecollection', '', 'secrets', this.core.deleteCollectionNamespacedSecret({ namespace: this.namespace, labelSelector }, this.options()));
  }

  // pods: list + watch (informer) only; the ReplicaSets make and remove them
  listPods(labelSelector: string): Promise<V1PodList> {
    return this.track('list', '', 'pods', this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }, this.options()));
  }

  // pods/log: get (Runtime.logs); the text of one container, each line prefixed with its RFC 3339 timestamp.
  readPodLog(name: string, container: string, options: { tailLines?: number; sinceSeconds?: number }): Promise<string> {
    return this.track(
      'get',
      '',
      'pods/log',
      this.core.readNamespacedPodLog({ name, namespace: this.namespace, container, timestamps: true, ...options }, this.options()),
    );
  }

  // nodes (cluster-scoped, read only): capacity()
  listNodes(labelSelector: string | undefined): Promise<V1NodeList> {
    return this.track('list', '', 'nodes', this.core.listNode({ labelSelector }, this.options()));
  }

  /** Informer watch paths (the list half is the matching list call above). */
  path(resource: 'deployments' | 'services' | 'secrets' | 'pods'): string {
    const prefix = resource === 'deployments' ? '/apis/apps/v1' : '/api/v1';
    return `${prefix}/namespaces/${this.namespace}/${resource}`;
  }
}

export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  if (source.kind === 'config') return source.config;
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') {
    kc.loadFromCluster();
  } else {
    kc.loadFromFile(source.path);
    if (source.context) kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster');
  return kc;
}

/** The HTTP status of a failed API call (client-node's ApiException carries it as `code`), or undefined. */
export function statusOf(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown; statusCode?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export type { KubernetesObject };
