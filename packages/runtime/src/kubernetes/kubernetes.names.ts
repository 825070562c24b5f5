/**
 * The names, labels and annotations the adapter puts on what it creates. Labels select (the informers watch only
 * `managed-by=remotegpu`; delete removes everything carrying the service's label); annotations carry what the
 * adapter compares before it writes.
 */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  serviceId: 'remotegpu.io/service-id',
  workspaceId: 'remotegpu.io/workspace-id',
  /** On pod templates: which template a pod was made from (the adapter's own, stable across server versions). */
  templateHash: 'remotegpu.io/template-hash',
} as const;

export const MANAGED_BY = 'remotegpu';

export const ANNOTATIONS = {
  /** Hash of everything the adapter wrote: equal to the desired hash → nothing to write. */
  specHash: 'remotegpu.io/spec-hash',
  /** The service generation the Deployment was last applied at (the provisioner bumps it on every spec change). */
  generation: 'remotegpu.io/generation',
  /** On pod templates: the generation that introduced this template (older pods report it during a rollout). */
  templateGeneration: 'remotegpu.io/template-generation',
  /** On the artifact Secret: when its token expires (epoch ms), and which artifact it opens. */
  tokenExpiresAt: 'remotegpu.io/token-expires-at',
  tokenIssuedAt: 'remotegpu.io/token-issued-at',
  tokenArtifact: 'remotegpu.io/token-artifact',
} as const;

/** Every object of the platform in the namespace. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/** Everything of one service: what `remove` deletes. */
export function serviceSelector(serviceId: string): string {
  return `${MANAGED_SELECTOR},${LABELS.serviceId}=${serviceId}`;
}

/** Service ids (`svc-` + lowercase letters and digits) are valid DNS-1035 labels: the Deployment and Service are named after them. */
export function deploymentName(serviceId: string): string {
  return serviceId;
}

export function serviceName(serviceId: string): string {
  return serviceId;
}

export function artifactSecretName(serviceId: string): string {
  return `${serviceId}-artifact`;
}

export const CONTAINER_NAME = 'model-server';
export const CONTAINER_PORT = 8080;
export const PORT_NAME = 'http';
/** Where the model server caches downloads (an emptyDir: a restarted container keeps the file, a new pod fetches again). */
export const MODEL_CACHE_DIR = '/var/cache/rgpu-models';
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** The key of the token in the artifact Secret. */
export const TOKEN_KEY = 'token';
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** The service id an object of ours belongs to, from its labels. */
export function serviceIdOf(obj: { metadata?: { labels?: Record<string, string> } }): string | undefined {
  return obj.metadata?.labels?.[LABELS.serviceId];
}
