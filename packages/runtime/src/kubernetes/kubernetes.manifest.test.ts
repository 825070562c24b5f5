import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import { buildArtifactSecret, buildDeployment, buildService, desiredTemplate, specHashOf } from './kubernetes.manifest.js';
import { resolveKubernetesOptions, type KubernetesRuntimeOptions } from './kubernetes.options.js';

const SHA = 'ab'.repeat(32);

function spec(overrides: Partial<RuntimeServiceSpec> = {}, model: Partial<RuntimeServiceSpec['model']> = {}): RuntimeServiceSpec {
  return {
    serviceId: 'svc-abcdefghij123456',
    workspaceId: 456,
    generation: 1,
    replicas: 2,
    cpu: 1.5,
    memory: 2 * 1024 ** 3,
    gpu: 1,
    ...overrides,
    model: {
      name: 'svc-abcdefghij123456',
      modelId: 7,
      version: 'v1',
      artifact: { uri: 'http://gateway.rgpu:8080/api/v1/artifacts/7/v1', sha256: SHA, sizeBytes: 1000, access: 'artifact_token' },
      labels: ['red', 'green', 'blue'],
      preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], size: [224, 224] },
      ...model,
    },
  };
}

function options(overrides: Partial<KubernetesRuntimeOptions> = {}) {
  return resolveKubernetesOptions({
    kubeconfig: { kind: 'in-cluster' },
    namespace: 'rgpu-replicas',
    image: 'registry.example.com/remotegpu:1.0',
    gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
    gpuTolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    imagePullSecrets: ['regcred'],
    replicaEnv: { RGPU_LOG_LEVEL: 'debug', RGPU_JWT_SECRET: 'platform-secret', NODE_OPTIONS: '--require evil', PATH: '/x' },
    ...overrides,
  });
}

function container(d: V1Deployment): V1Container {
  return d.spec!.template.spec!.containers[0];
}

function envOf(d: V1Deployment): Record<string, string | undefined> {
  return Object.fromEntries((container(d).env ?? []).map((e) => [e.name, e.value]));
}

describe('kubernetes manifests', () => {
  it('a GPU service: a Deployment with the resources, GPU limit, probes, rollout and labels of DESIGN §6', () => {
    const d = buildDeployment(spec(), options());
    expect(d.metadata).toMatchObject({
      name: 'svc-abcdefghij123456',
      namespace: 'rgpu-replicas',
      labels: {
        'app.kubernetes.io/managed-by': 'remotegpu',
        'remotegpu.io/service-id': 'svc-abcdefghij123456',
        'remotegpu.io/workspace-id': '456',
      },
      annotations: { 'remotegpu.io/generation': '1', 'remotegpu.io/spec-hash': expect.stringMatching(/^[0-9a-f]{16}$/) },
    });
    expect(d.spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { 'app.kubernetes.io/managed-by': 'remotegpu', 'remotegpu.io/service-id': 'svc-abcdefghij123456' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    // The pods carry the labels too (delete by label finds them; the Service selects them).
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
    expect(d.spec!.template.metadata!.labels!['remotegpu.io/workspace-id']).toBe('456');
    const c = container(d);
    expect(c.image).toBe('registry.example.com/remotegpu:1.0');
    expect(c.command).toEqual(['node', 'services/model-server/dist/main.js']);
    const quantities = { cpu: '1500m', memory: String(2 * 1024 ** 3), 'nvidia.com/gpu': '1' };
    expect(c.resources).toEqual({ requests: quantities, limits: quantities });
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/v2/health/ready', port: 'http' });
    expect(c.startupProbe?.httpGet).toMatchObject({ path: '/v2/health/ready', port: 'http' });
    // Ten minutes for a slow model load before the kubelet gives up.
    expect((c.startupProbe!.periodSeconds ?? 10) * (c.startupProbe!.failureThreshold ?? 3)).toBeGreaterThanOrEqual(600);
    expect(d.spec!.progressDeadlineSeconds).toBeGreaterThan(600);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const pod = d.spec!.template.spec!;
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  it('the replica environment: the model by URI and sha256, the token from a Secret, no platform secret', () => {
    const d = buildDeployment(spec(), options());
    const env = envOf(d);
    expect(env).toMatchObject({
      RGPU_MODEL_URI: 'http://gateway.rgpu:8080/api/v1/artifacts/7/v1',
      RGPU_MODEL_SHA256: SHA,
      RGPU_MODEL_SIZE_BYTES: '1000',
      RGPU_MODEL_NAME: 'svc-abcdefghij123456',
      RGPU_MODEL_VERSION: 'v1',
      RGPU_LABELS: '["red","green","blue"]',
      RGPU_PREPROCESSING: JSON.stringify({ mean: [0.5, 0.5, 0.5], size: [224, 224], std: [0.2, 0.2, 0.2] }),
      RGPU_TERMINATION_MESSAGE_PATH: '/dev/termination-log',
      RGPU_LOG_LEVEL: 'debug',
      PORT: '8080',
      ORT_DISABLE_TELEMETRY: '1',
    });
    for (const name of ['RGPU_JWT_SECRET', 'NODE_OPTIONS', 'PATH', 'RGPU_MODEL_PATH', 'CUDA_VISIBLE_DEVICES']) expect(env).not.toHaveProperty(name);
    const token = container(d).env!.find((e) => e.name === 'RGPU_MODEL_TOKEN');
    expect(token).toEqual({ name: 'RGPU_MODEL_TOKEN', valueFrom: { secretKeyRef: { name: 'svc-abcdefghij123456-artifact', key: 'token' } } });
    // Nothing in the Deployment holds a token or a secret value.
    expect(JSON.stringify(d)).not.toMatch(/platform-secret|eyJ/);
  });

  it('the version\'s batching as RGPU_BATCHING and intra-op threads from the cpu request (1.5 cores → 1)', () => {
    const batching = { maxBatchSize: 8, maxQueueDelayMs: 4, preferredBatchSizes: [4] };
    const env = envOf(buildDeployment(spec({}, { batching }), options()));
    expect(env).toMatchObject({ RGPU_BATCHING: '{"max_batch_size":8,"max_queue_delay_ms":4,"preferred_batch_sizes":[4]}', RGPU_INTRA_OP_THREADS: '1' });
    expect(envOf(buildDeployment(spec(), options()))).not.toHaveProperty('RGPU_BATCHING');
  });

  it('a CPU service: no GPU resource, no GPU placement, every GPU hidden', () => {
    const d = buildDeployment(spec({ gpu: 0 }, { artifact: { uri: 'https://models.example.com/m.onnx', sha256: SHA, sizeBytes: 10, access: 'none' } }), options());
    const c = container(d);
    expect(c.resources?.limits).toEqual({ cpu: '1500m', memory: String(2 * 1024 ** 3) });
    expect(d.spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(d.spec!.template.spec!.tolerations).toBeUndefined();
    expect(envOf(d)).toMatchObject({ CUDA_VISIBLE_DEVICES: '', RGPU_DEVICE: 'cpu', RGPU_MODEL_URI: 'https://models.example.com/m.onnx' });
    expect(c.env!.some((e) => e.name === 'RGPU_MODEL_TOKEN')).toBe(false);
  });

  it('the spec hash: equal specs hash equal; a scale changes the Deployment but not the pod template', () => {
    const o = options();
    const first = buildDeployment(spec(), o);
    expect(specHashOf(buildDeployment(spec(), o))).toBe(specHashOf(first));
    // Another key order, same content.
    const reordered = spec();
    reordered.model = { ...reordered.model, preprocessing: { size: [224, 224], std: [0.2, 0.2, 0.2], mean: [0.5, 0.5, 0.5] } };
    expect(specHashOf(buildDeployment(reordered, o))).toBe(specHashOf(first));

    const scaled = buildDeployment(spec({ replicas: 3, generation: 2 }), o, first);
    expect(specHashOf(scaled)).not.toBe(specHashOf(first));
    expect(scaled.spec!.template).toEqual(first.spec!.template);
    // The template keeps the generation that introduced it; the Deployment carries the new one.
    expect(scaled.spec!.template.metadata!.annotations!['remotegpu.io/template-generation']).toBe('1');
    expect(scaled.metadata!.annotations!['remotegpu.io/generation']).toBe('2');

    const rolled = buildDeployment(spec({ generation: 3 }, { version: 'v2' }), o, scaled);
    expect(rolled.spec!.template.metadata!.labels!['remotegpu.io/template-hash']).not.toBe(first.spec!.template.metadata!.labels!['remotegpu.io/template-hash']);
    expect(rolled.spec!.template.metadata!.annotations!['remotegpu.io/template-generation']).toBe('3');
    // Resources are part of the template: changing them rolls, as the local runtime does.
    expect(desiredTemplate(spec({ memory: 4 * 1024 ** 3 }), o, first).templateHash).not.toBe(desiredTemplate(spec(), o, first).templateHash);
  });

  it('Service and Secret: labelled like the Deployment; the Service selects its pods on the named port', () => {
    const s = buildService(spec(), options());
    expect(s.metadata?.labels).toMatchObject({ 'remotegpu.io/service-id': 'svc-abcdefghij123456', 'app.kubernetes.io/managed-by': 'remotegpu' });
    expect(s.spec).toMatchObject({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/managed-by': 'remotegpu', 'remotegpu.io/service-id': 'svc-abcdefghij123456' },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    });
    const secret = buildArtifactSecret(spec(), options(), { token: 'a.b.c', expiresAt: 2_000, issuedAt: 1_000 });
    expect(secret.metadata).toMatchObject({
      name: 'svc-abcdefghij123456-artifact',
      labels: { 'remotegpu.io/service-id': 'svc-abcdefghij123456' },
      annotations: { 'remotegpu.io/token-expires-at': '2000', 'remotegpu.io/token-artifact': `7/v1/${SHA}` },
    });
    expect(secret.stringData).toEqual({ token: 'a.b.c' });
  });

  it('every generated object validates against the Kubernetes schema (kubernetes-models)', () => {
    const o = options();
    for (const s of [spec(), spec({ gpu: 0, replicas: 1, cpu: 0.1 }, { preprocessing: null })]) {
      expect(() => new Deployment(buildDeployment(s, o) as never).validate()).not.toThrow();
      expect(() => new Service(buildService(s, o) as never).validate()).not.toThrow();
      expect(() => new Secret(buildArtifactSecret(s, o, { token: 't', expiresAt: 2, issuedAt: 1 }) as never).validate()).not.toThrow();
    }
    // The check can fail: a quantity of the wrong type is refused.
    const broken = buildDeployment(spec(), o);
    (container(broken).ports![0] as { containerPort: unknown }).containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });
});
