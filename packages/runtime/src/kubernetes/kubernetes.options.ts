import type { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import type { ArtifactTokenIssuer } from '../runtime.port.js';

/** Where the adapter finds the cluster: a kubeconfig file (KUBECONFIG), the pod's service account, or a ready KubeConfig (tests). */
export type KubeconfigSource =
  | { kind: 'file'; path: string; context?: string }
  | { kind: 'in-cluster' }
  | { kind: 'config'; config: KubeConfig };

/** A pod toleration, as `kubectl explain pod.spec.tolerations` describes it. */
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface KubernetesRuntimeOptions {
  kubeconfig: KubeconfigSource;
  /** Where every Deployment, Service and Secret of the platform lives (RGPU_K8S_NAMESPACE). */
  namespace: string;
  /** The platform's image (RGPU_K8S_IMAGE); one image for every process, the model server chosen by `command`. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Entry point of a replica in the image (default `node services/model-server/dist/main.js`, the Dockerfile's WORKDIR). */
  command?: string[];
  /** Node labels a replica that asks for GPUs must run on (RGPU_K8S_GPU_NODE_SELECTOR), e.g. `{"nvidia.com/gpu.present":"true"}`. */
  gpuNodeSelector?: Record<string, string>;
  /** Tolerations of replicas that ask for GPUs (RGPU_K8S_TOLERATIONS): GPU nodes are usually tainted. */
  gpuTolerations?: Toleration[];
  /** Secrets in `namespace` the kubelet pulls the image with (RGPU_K8S_IMAGE_PULL_SECRETS). */
  imagePullSecrets?: string[];
  /** The model server's tuning variables set on every replica (only the names `replica.env.ts` allows pass). */
  replicaEnv?: Record<string, string | undefined>;
  /** Mints the token replicas fetch `artifact_token` artifacts with; kept in a per-service Secret, refreshed before it expires. */
  artifactTokens?: ArtifactTokenIssuer;
  /** Startup probe budget: a replica gets this long to load its model before the kubelet restarts it (default 600 s). */
  startupTimeoutSeconds?: number;
  /** Deployment `progressDeadlineSeconds` (default 900, above the startup budget so a slow load is not a failure). */
  progressDeadlineSeconds?: number;
  /** Restarts in CrashLoopBackOff before the service counts as failed (default 3): one crash of a running replica is not a failure. */
  crashLoopRestarts?: number;
  /** Between SIGTERM and SIGKILL for a replica (default 30 s; the model server drains in-flight requests first). */
  terminationGracePeriodSeconds?: number;
  /** Full re-list of every informer (a safety net for a watch that silently missed an event); default 10 min, 0 = never. */
  relistIntervalMs?: number;
  /** Timeout of one API request (default 15 s). */
  requestTimeoutMs?: number;
  logger?: Logger;
}

export interface ResolvedKubernetesRuntimeOptions {
  kubeconfig: KubeconfigSource;
  namespace: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  command: string[];
  gpuNodeSelector: Record<string, string>;
  gpuTolerations: Toleration[];
  imagePullSecrets: string[];
  replicaEnv: Record<string, string | undefined>;
  artifactTokens: ArtifactTokenIssuer | undefined;
  startupTimeoutSeconds: number;
  progressDeadlineSeconds: number;
  crashLoopRestarts: number;
  terminationGracePeriodSeconds: number;
  relistIntervalMs: number;
  requestTimeoutMs: number;
  logger: Logger;
}

export const MODEL_SERVER_COMMAND = ['node', 'services/model-server/dist/main.js'];

/** RFC 1123 label: what a namespace name must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function resolveKubernetesOptions(options: KubernetesRuntimeOptions): ResolvedKubernetesRuntimeOptions {
  if (!DNS_LABEL.test(options.namespace)) throw new Error(`namespace must be a DNS label, got "${options.namespace}"`);
  if (!options.image.trim()) throw new Error('image is required');
  const startupTimeoutSeconds = options.startupTimeoutSeconds ?? 600;
  return {
    kubeconfig: options.kubeconfig,
    namespace: options.namespace,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    command: options.command ?? MODEL_SERVER_COMMAND,
    gpuNodeSelector: options.gpuNodeSelector ?? {},
    gpuTolerations: options.gpuTolerations ?? [],
    imagePullSecrets: options.imagePullSecrets ?? [],
    replicaEnv: options.replicaEnv ?? {},
    artifactTokens: options.artifactTokens,
    startupTimeoutSeconds,
    progressDeadlineSeconds: options.progressDeadlineSeconds ?? Math.max(900, startupTimeoutSeconds + 60),
    crashLoopRestarts: options.crashLoopRestarts ?? 3,
    terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 30,
    relistIntervalMs: options.relistIntervalMs ?? 10 * 60_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}
