import type { V1Deployment, V1EnvVar, V1PodTemplateSpec, V1Secret, V1Service } from '@kubernetes/client-node';
import { ONNXRUNTIME_ENV } from '@remotegpu/core';
import { MODEL_SERVER_ENV, modelArtifactEnv } from '../model-artifact.env.js';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import type { ResolvedKubernetesRuntimeOptions } from './kubernetes.options.js';
import {
  ANNOTATIONS,
  artifactSecretName,
  CONTAINER_NAME,
  CONTAINER_PORT,
  deploymentName,
  GPU_RESOURCE,
  LABELS,
  MANAGED_BY,
  MODEL_CACHE_DIR,
  PORT_NAME,
  serviceName,
  TERMINATION_MESSAGE_PATH,
  TOKEN_KEY,
} from './kubernetes.names.js';
import { canonicalJson, specHash } from './spec.hash.js';
import { tuningEnv } from '../model-server.tuning.js';

/**
 * The pure half of the adapter: from a RuntimeServiceSpec to the objects that should exist (DESIGN §6). No I/O,
 * so every field a user's cluster will see is checked by a unit test and validated against the Kubernetes schema.
 */

/** The model server's tuning variables an operator may set for every replica; nothing else of the platform's environment reaches a pod. */
const TUNING_ENV = new Set(['RGPU_LOG_LEVEL', 'RGPU_DEVICE', 'RGPU_INTRA_OP_THREADS', 'RGPU_DRAIN_TIMEOUT_MS', 'RGPU_MAX_BODY_BYTES']);

/** The image's unprivileged user (the Dockerfile's `node`, uid 1000): numeric, so the kubelet can verify runAsNonRoot. */
const RUN_AS_USER = 1000;

export function selectorLabels(serviceId: string): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.serviceId]: serviceId };
}

export function objectLabels(spec: Pick<RuntimeServiceSpec, 'serviceId' | 'workspaceId'>): Record<string, string> {
  return {
    ...selectorLabels(spec.serviceId),
    [LABELS.workspaceId]: String(spec.workspaceId),
    [LABELS.name]: 'model-server',
    [LABELS.component]: 'inference-replica',
  };
}

/** cpu cores → millicores (`500m`): the form `kubectl get` prints, and exact for the API's 0.001-core steps. */
export function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

export function replicaEnvVars(spec: RuntimeServiceSpec, options: ResolvedKubernetesRuntimeOptions): V1EnvVar[] {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.replicaEnv)) {
    if (value !== undefined && TUNING_ENV.has(name)) env[name] = value;
  }
  Object.assign(env, {
    ...ONNXRUNTIME_ENV,
    // The root filesystem is read-only: whatever a library writes to HOME or TMPDIR lands in the pod's emptyDir.
    HOME: '/tmp',
    TMPDIR: '/tmp',
    ...modelArtifactEnv(spec.model),
    [MODEL_SERVER_ENV.cacheDir]: MODEL_CACHE_DIR,
    [MODEL_SERVER_ENV.terminationMessagePath]: TERMINATION_MESSAGE_PATH,
    RGPU_MODEL_NAME: spec.model.name,
    RGPU_MODEL_VERSION: spec.model.version,
    RGPU_LABELS: JSON.stringify(spec.model.labels),
    PORT: String(CONTAINER_PORT),
    // Every interface of the pod: the kubelet's probes and the router reach it on the pod IP.
    HOST: '0.0.0.0',
  });
  // Canonical key order: the same preprocessing read back from another store must not look like a new template.
  if (spec.model.preprocessing) env.RGPU_PREPROCESSING = canonicalJson(spec.model.preprocessing);
  // The version's batching and intra-op threads sized from the pod's cpu request (an operator's setting wins).
  Object.assign(env, tuningEnv(spec, env));
  if (spec.gpu === 0) {
    // A replica that asked for no GPU must not use one a GPU node's runtime exposes anyway.
    env.CUDA_VISIBLE_DEVICES = '';
    env.RGPU_DEVICE = 'cpu';
  }
  const vars: V1EnvVar[] = Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name] }));
  if (needsToken(spec)) {
    // From the Secret, read by the kubelet when it starts the container: a refreshed token never changes the template.
    vars.push({ name: MODEL_SERVER_ENV.token, valueFrom: { secretKeyRef: { name: artifactSecretName(spec.serviceId), key: TOKEN_KEY } } });
  }
  return vars;
}

export function needsToken(spec: RuntimeServiceSpec): boolean {
  return spec.model.artifact.access === 'artifact_token';
}

/** The pod template without the adapter's own template label and annotation (they are derived from it). */
function podTemplate(spec: RuntimeServiceSpec, options: ResolvedKubernetesRuntimeOptions): V1PodTemplateSpec {
  const quantities: Record<string, string> = { cpu: cpuQuantity(spec.cpu), memory: String(spec.memory) };
  if (spec.gpu > 0) quantities[GPU_RESOURCE] = String(spec.gpu);
  const gpuPlacement =
    spec.gpu > 0
      ? {
          ...(Object.keys(options.gpuNodeSelector).length ? { nodeSelector: { ...options.gpuNodeSelector } } : {}),
          ...(options.gpuTolerations.length ? { tolerations: options.gpuTolerations.map((t) => ({ ...t })) } : {}),
        }
      : {};
  // Downloaded model plus one partial download beside it, and some room.
  const cacheBytes = 2 * spec.model.artifact.sizeBytes + 64 * 1024 * 1024;
  return {
    metadata: { labels: objectLabels(spec) },
    spec: {
      // Replicas never call the API server: no token mounted, no service links (with hundreds of services they
      // would add thousands of variables to every pod).
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds,
      securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_USER, fsGroup: RUN_AS_USER, seccompProfile: { type: 'RuntimeDefault' } },
      ...(options.imagePullSecrets.length ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...gpuPlacement,
      containers: [
        {
          name: CONTAINER_NAME,
          image: options.image,
          imagePullPolicy: options.imagePullPolicy,
          command: [...options.command],
          ports: [{ name: PORT_NAME, containerPort: CONTAINER_PORT, protocol: 'TCP' }],
          env: replicaEnvVars(spec, options),
          // Requests = limits (Guaranteed QoS): an inference replica's latency should not depend on its neighbours.
          resources: { requests: { ...quantities }, limits: { ...quantities } },
          // Slow model loads: up to startupTimeoutSeconds before the kubelet gives up and restarts the container;
          // liveness and readiness only start once it passed.
          startupProbe: {
            httpGet: { path: '/v2/health/ready', port: PORT_NAME },
            periodSeconds: 5,
            timeoutSeconds: 2,
            failureThreshold: Math.max(1, Math.ceil(options.startupTimeoutSeconds / 5)),
          },
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: PORT_NAME }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
          // A hung server (alive process, no answers for a minute) is restarted.
          livenessProbe: { httpGet: { path: '/v2/health/live', port: PORT_NAME }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
          // The model server writes its failure there; otherwise the log tail: the pod's message for `failed`.
          terminationMessagePath: TERMINATION_MESSAGE_PATH,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'model-cache', mountPath: MODEL_CACHE_DIR },
          ],
        },
      ],
      volumes: [
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'model-cache', emptyDir: { sizeLimit: String(cacheBytes) } },
      ],
    },
  };
}

/**
 * The template and the generation that introduced it: a scale (same template, new generation) keeps the running
 * pods' generation; a new template starts at this spec's generation.
 */
export function desiredTemplate(
  spec: RuntimeServiceSpec,
  options: ResolvedKubernetesRuntimeOptions,
  live: V1Deployment | undefined,
): { template: V1PodTemplateSpec; templateHash: string; templateGeneration: number } {
  const bare = podTemplate(spec, options);
  const templateHash = specHash(bare);
  const liveTemplate = live?.spec?.template?.metadata;
  const liveGeneration = Number(liveTemplate?.annotations?.[ANNOTATIONS.templateGeneration]);
  const templateGeneration =
    liveTemplate?.labels?.[LABELS.templateHash] === templateHash && Number.isInteger(liveGeneration) ? liveGeneration : spec.generation;
  const template: V1PodTemplateSpec = {
    metadata: {
      labels: { ...bare.metadata!.labels, [LABELS.templateHash]: templateHash },
      annotations: { [ANNOTATIONS.templateGeneration]: String(templateGeneration) },
    },
    spec: bare.spec,
  };
  return { template, templateHash, templateGeneration };
}

/** The Deployment that should exist; `live` is the current one (its template generation is kept across scales). */
export function buildDeployment(spec: RuntimeServiceSpec, options: ResolvedKubernetesRuntimeOptions, live?: V1Deployment): V1Deployment {
  const { template } = desiredTemplate(spec, options, live);
  const body: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(spec.serviceId),
      namespace: options.namespace,
      labels: objectLabels(spec),
      annotations: { [ANNOTATIONS.generation]: String(spec.generation) },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(spec.serviceId) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      revisionHistoryLimit: 2,
      progressDeadlineSeconds: options.progressDeadlineSeconds,
      template,
    },
  };
  return withSpecHash(body);
}

export function buildService(spec: RuntimeServiceSpec, options: ResolvedKubernetesRuntimeOptions): V1Service {
  return withSpecHash({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(spec.serviceId), namespace: options.namespace, labels: objectLabels(spec), annotations: {} },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec.serviceId),
      ports: [{ name: PORT_NAME, port: 80, targetPort: PORT_NAME, protocol: 'TCP' }],
    },
  });
}

/** The per-service Secret holding the artifact token (only for `artifact_token` artifacts). */
export function buildArtifactSecret(
  spec: RuntimeServiceSpec,
  options: ResolvedKubernetesRuntimeOptions,
  token: { token: string; expiresAt: number; issuedAt: number },
): V1Secret {
  return withSpecHash({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: artifactSecretName(spec.serviceId),
      namespace: options.namespace,
      labels: objectLabels(spec),
      annotations: {
        [ANNOTATIONS.tokenIssuedAt]: String(token.issuedAt),
        [ANNOTATIONS.tokenExpiresAt]: String(token.expiresAt),
        [ANNOTATIONS.tokenArtifact]: tokenArtifactKey(spec),
      },
    },
    stringData: { [TOKEN_KEY]: token.token },
  });
}

/** Which artifact a token opens: a new version or checksum needs a new token at once, not at expiry. */
export function tokenArtifactKey(spec: RuntimeServiceSpec): string {
  return `${spec.model.modelId}/${spec.model.version}/${spec.model.artifact.sha256}`;
}

/** Stamps the hash of the object (everything the adapter sets) into its annotations. */
function withSpecHash<T extends { metadata?: { annotations?: Record<string, string> } }>(body: T): T {
  const hash = specHash(body);
  body.metadata!.annotations = { ...body.metadata!.annotations, [ANNOTATIONS.specHash]: hash };
  return body;
}

export function specHashOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): string | undefined {
  return obj?.metadata?.annotations?.[ANNOTATIONS.specHash];
}
