import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { isConfigError, type ModelVersion } from '@remotegpu/core';
import { loadGatewayConfig } from '@remotegpu/gateway';
import { buildArtifactSecret, buildDeployment, buildService, KUBERNETES_RBAC_NEEDS, type RbacNeed, type RuntimeServiceSpec } from '@remotegpu/runtime';
import { artifactOf } from '@remotegpu/provisioner';
import { resolveKubernetesOptions } from '../../packages/runtime/src/kubernetes/kubernetes.options.js';
import { loadProvisionerConfig } from '../../services/provisioner/src/provisioner.config.js';
import { loadRouterConfig } from '../../services/router/src/router.config.js';
import { ENTRY_POINTS } from './entry-points.js';

/**
 * deploy/kubernetes, checked without a cluster (none runs here): every object validates against the Kubernetes
 * schemas (kubernetes-models) and has no field the API would drop (a round trip through @kubernetes/client-node's
 * typed models), and so does every object the provisioner's kubernetes runtime generates; the provisioner's Role
 * grants exactly what that runtime calls (KUBERNETES_RBAC_NEEDS); each Deployment's environment is accepted by its
 * own process's configuration loader; Services, probes and the NetworkPolicy point at what exists.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

function loadYaml(text: string, where: string): Obj[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Obj | null;
    return value ? [value] : [];
  });
}

const OBJECTS: Obj[] = FILES.flatMap((file) => loadYaml(readFileSync(path.join(DIR, file), 'utf8'), file));

/** The schema models by kind; a kind missing here fails the suite rather than going unchecked. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** Types and required fields (kubernetes-models), then unknown fields: what client-node's typed models drop. */
function schemaProblems(obj: Obj): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: no schema model in this test`];
  try {
    new Model(obj as never).validate();
  } catch (err) {
    return [`${key} ${obj.metadata?.name}: ${err instanceof Error ? err.message : String(err)}`];
  }
  const type = `V1${obj.kind}`;
  const roundTrip = ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type), type) as unknown;
  return unknownFields(obj, roundTrip, `${obj.kind} ${obj.metadata?.name}`);
}

function unknownFields(original: unknown, kept: unknown, where: string): string[] {
  if (Array.isArray(original)) return original.flatMap((item, i) => unknownFields(item, (kept as unknown[] | undefined)?.[i], `${where}[${i}]`));
  if (!original || typeof original !== 'object') return [];
  return Object.entries(original).flatMap(([k, v]) => {
    const there = kept && typeof kept === 'object' ? (kept as Record<string, unknown>)[k] : undefined;
    if (there === undefined && v !== undefined) return [`${where}.${k}: not a field of the Kubernetes API`];
    return unknownFields(v, there, `${where}.${k}`);
  });
}

function find<T = Obj>(kind: string, name: string): T {
  const found = OBJECTS.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found as T;
}

const CONFIG = find<{ data: Record<string, string> }>('ConfigMap', 'rgpu-config').data;
const SECRET = find<{ stringData: Record<string, string> }>('Secret', 'rgpu-secrets').stringData;
const deployments = () => OBJECTS.filter((o) => o.kind === 'Deployment') as unknown as V1Deployment[];
const podSpec = (name: string): V1PodSpec => find<V1Deployment>('Deployment', name).spec!.template.spec!;
const container = (name: string): V1Container => podSpec(name).containers[0];

/** What a container's process sees: the image's ENV (Dockerfile), the ConfigMap by envFrom, each env entry. */
function environmentOf(name: string, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: 'production', HOST: '0.0.0.0', RGPU_DATA_DIR: '/data' };
  const c = container(name);
  for (const from of c.envFrom ?? []) {
    expect(from.configMapRef?.name, `${name} envFrom`).toBe('rgpu-config');
    Object.assign(env, CONFIG);
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name, `${name} ${e.name}`).toBe('rgpu-secrets');
      expect(Object.keys(SECRET), `${name} ${e.name}: key ${ref.key} in rgpu-secrets`).toContain(ref.key);
      env[e.name] = secrets[ref.key];
    } else env[e.name] = e.value ?? '';
  }
  return env;
}

/** The values an operator puts in place of the placeholders. */
const REAL_SECRETS = {
  RGPU_JWT_SECRET: 'j'.repeat(48),
  RGPU_ARTIFACT_SECRET: 'a'.repeat(48),
  RGPU_STORE_URL: 'mongodb://rgpu:pw@mongodb.remotegpu.svc.cluster.local:27017/rgpu?authSource=admin',
};
/** What the kubelet adds to every container's environment in a cluster. */
const IN_CLUSTER = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

function problemsOf(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (err) {
    if (isConfigError(err)) return [...err.problems];
    throw err;
  }
}

const rbacKey = (n: Pick<RbacNeed, 'scope' | 'apiGroup' | 'resource'> & { verb: string }) => `${n.scope} ${n.apiGroup || 'core'}/${n.resource} ${n.verb}`;

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };
function grants(rules: Rule[], scope: RbacNeed['scope']): string[] {
  return rules.flatMap((r) =>
    (r.apiGroups ?? []).flatMap((apiGroup) => (r.resources ?? []).flatMap((resource) => r.verbs.map((verb) => rbacKey({ scope, apiGroup, resource, verb })))),
  );
}

/** What the provisioner's ServiceAccount may do, from every binding that names it. */
function provisionerGrants(): string[] {
  const sa = podSpec('rgpu-provisioner').serviceAccountName!;
  const isProvisioner = (s: { kind: string; name: string; namespace?: string }) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === 'remotegpu';
  return OBJECTS.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding').flatMap((binding) => {
    const b = binding as unknown as { subjects: { kind: string; name: string; namespace?: string }[]; roleRef: { kind: string; name: string } };
    if (!b.subjects.some(isProvisioner)) return [];
    const role = find<{ rules: Rule[]; metadata: { namespace?: string } }>(b.roleRef.kind, b.roleRef.name);
    // A Role bound in the replicas' namespace; a ClusterRole through a ClusterRoleBinding is cluster-wide.
    if (binding.kind === 'RoleBinding') {
      expect(role.metadata.namespace).toBe(binding.metadata.namespace);
      expect(binding.metadata.namespace, 'the Role lives where the runtime creates replicas').toBe(CONFIG.RGPU_K8S_NAMESPACE);
      return grants(role.rules, 'namespace');
    }
    return grants(role.rules, 'cluster');
  });
}

/** What the provisioner's kubernetes runtime generates, for the ConfigMap's settings and an uploaded model version. */
function generatedObjects(): Obj[] {
  const config = loadProvisionerConfig({ ...environmentOf('rgpu-provisioner', REAL_SECRETS), ...IN_CLUSTER });
  const options = resolveKubernetesOptions({ ...config.kubernetes! });
  const version: ModelVersion = {
    modelId: 7,
    version: 'v1.0',
    format: 'onnx',
    artifactPath: '/data/models/7/v1.0/model.onnx',
    source: 'upload',
    sizeBytes: 1_000_000,
    sha256: 'ab'.repeat(32),
    inputs: [],
    outputs: [],
    labels: ['red', 'green', 'blue'],
    preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], size: [224, 224] },
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const spec: RuntimeServiceSpec = {
    serviceId: 'svc-abcdefghij123456',
    workspaceId: 456,
    generation: 1,
    replicas: 2,
    cpu: 1.5,
    memory: 2 * 1024 ** 3,
    gpu: 1,
    model: { name: 'svc-abcdefghij123456', modelId: 7, version: 'v1.0', artifact: artifactOf(version, config.artifactDelivery), labels: version.labels, preprocessing: version.preprocessing },
  };
  const token = { token: 'x.y.z', expiresAt: Date.now() + 3_600_000, issuedAt: Date.now() };
  return [buildDeployment(spec, options), buildService(spec, options), buildArtifactSecret(spec, options, token)] as unknown as Obj[];
}

describe('deploy/kubernetes', () => {
  it('every manifest validates against the Kubernetes schemas and carries no unknown field', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(6);
    expect(OBJECTS.flatMap(schemaProblems)).toEqual([]);
    // The check does catch what `kubectl apply` would refuse or silently drop.
    const gateway = structuredClone(find('Deployment', 'rgpu-gateway')) as unknown as IDeployment;
    (gateway.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>).readinessprobe = {};
    expect(schemaProblems(gateway as unknown as Obj)).toEqual([expect.stringMatching(/readinessprobe: not a field/)]);
    const original = find('Deployment', 'rgpu-gateway') as unknown as IDeployment;
    expect(schemaProblems({ ...(original as unknown as Obj), spec: { ...original.spec, replicas: 'two' } })).toEqual([expect.stringMatching(/replicas/)]);
  });

  it('every object the provisioner\'s kubernetes runtime generates validates the same way', () => {
    const generated = generatedObjects();
    expect(generated.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'Secret']);
    expect(generated.flatMap(schemaProblems)).toEqual([]);
  });

  it('kustomization.yaml lists every manifest, and kubectl kustomize renders exactly these objects', () => {
    const kustomization = loadYaml(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8'), 'kustomization.yaml')[0] as unknown as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(FILES);
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (kubectl.error) {
      console.warn('kubectl is not on PATH: `kubectl kustomize deploy/kubernetes` not run (the YAML above was still checked)');
      return;
    }
    const rendered = loadYaml(execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' }), 'kubectl kustomize');
    const ids = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    expect(ids(rendered)).toEqual(ids(OBJECTS));
  });

  it('the provisioner\'s Role and ClusterRole grant every verb and resource its runtime calls, and nothing more', () => {
    const needed = KUBERNETES_RBAC_NEEDS.map(rbacKey).sort();
    const granted = provisionerGrants().sort();
    expect(new Set(granted).size, 'no grant twice').toBe(granted.length);
    expect(granted.filter((g) => !needed.includes(g)), 'granted but never called').toEqual([]);
    expect(needed.filter((n) => !granted.includes(n)), 'called but not granted').toEqual([]);
    // No wildcards, names or non-resource URLs that widen a rule beyond its listed triples.
    const rules = OBJECTS.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').flatMap((o) => (o as unknown as { rules: Rule[] }).rules);
    expect(JSON.stringify(rules)).not.toContain('*');
    expect(rules.filter((r) => r.resourceNames || r.nonResourceURLs)).toEqual([]);
    // The comparison itself fails on a missing or an extra verb.
    const fewer = grants([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }], 'namespace');
    expect(needed.filter((n) => !fewer.includes(n)).length).toBeGreaterThan(0);
    expect(grants([{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }], 'namespace').filter((g) => !needed.includes(g))).toEqual(['namespace core/pods delete']);
  });

  it('only the provisioner may call the API server: the gateway and router mount no token and are bound to nothing', () => {
    for (const name of ['rgpu-gateway', 'rgpu-router']) {
      const pod = podSpec(name);
      expect(pod.automountServiceAccountToken, name).toBe(false);
      const bound = OBJECTS.filter((o) => o.kind.endsWith('Binding')).flatMap((b) => (b as unknown as { subjects: { name: string }[] }).subjects.map((s) => s.name));
      expect(bound, name).not.toContain(pod.serviceAccountName);
    }
    expect(podSpec('rgpu-provisioner').automountServiceAccountToken).toBe(true);
  });

  it('each process accepts its Deployment\'s environment, once the placeholder secrets are replaced', () => {
    const gateway = loadGatewayConfig(environmentOf('rgpu-gateway', REAL_SECRETS));
    expect(gateway).toMatchObject({ host: '0.0.0.0', port: 8080, routerUrl: CONFIG.RGPU_ROUTER_URL, publicUrl: CONFIG.RGPU_PUBLIC_URL, storeUrl: REAL_SECRETS.RGPU_STORE_URL });
    const router = loadRouterConfig(environmentOf('rgpu-router', REAL_SECRETS));
    expect(router).toMatchObject({ host: '0.0.0.0', port: 8081 });
    const provisioner = loadProvisionerConfig({ ...environmentOf('rgpu-provisioner', REAL_SECRETS), ...IN_CLUSTER });
    expect(provisioner).toMatchObject({
      host: '0.0.0.0',
      port: 8082,
      runtime: 'kubernetes',
      kubernetes: { kubeconfig: { kind: 'in-cluster' }, namespace: 'remotegpu-replicas', image: CONFIG.RGPU_K8S_IMAGE },
      artifactDelivery: { kind: 'gateway', baseUrl: CONFIG.RGPU_ARTIFACT_BASE_URL },
      artifactSecret: REAL_SECRETS.RGPU_ARTIFACT_SECRET,
    });
  });

  it('refuses to start with the placeholder secrets (exit 78 naming them), and keeps the user-token secret from the provisioner', () => {
    const placeholders = SECRET;
    const named = (problems: string[]) => problems.map((p) => p.split(':')[0]).sort();
    expect(named(problemsOf(() => loadGatewayConfig(environmentOf('rgpu-gateway', placeholders))))).toEqual(['RGPU_ARTIFACT_SECRET', 'RGPU_JWT_SECRET']);
    expect(named(problemsOf(() => loadRouterConfig(environmentOf('rgpu-router', placeholders))))).toEqual(['RGPU_JWT_SECRET']);
    expect(named(problemsOf(() => loadProvisionerConfig({ ...environmentOf('rgpu-provisioner', placeholders), ...IN_CLUSTER })))).toEqual(['RGPU_ARTIFACT_SECRET']);
    expect(Object.keys(environmentOf('rgpu-provisioner', REAL_SECRETS))).not.toContain('RGPU_JWT_SECRET');
    // No secret value sits in the ConfigMap.
    expect(Object.keys(CONFIG).filter((k) => /SECRET|PASSWORD|TOKEN|STORE_URL/.test(k))).toEqual([]);
  });

  it('runs the image\'s entry points as the image\'s non-root user, under the restricted Pod Security Standard', () => {
    for (const d of deployments()) {
      const pod = d.spec!.template.spec!;
      const c = pod.containers[0];
      const name = d.metadata!.name!;
      expect(c.command?.[0], name).toBe('node');
      expect(ENTRY_POINTS as readonly string[], name).toContain(c.command?.[1]);
      expect(c.image, name).toMatch(/^registry\.example\.com\/remotegpu:/);
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(c.securityContext, name).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.enableServiceLinks, name).toBe(false);
      // The root filesystem is read-only: the data dir and /tmp are volumes.
      expect(c.volumeMounts?.map((m) => m.mountPath).sort(), name).toEqual(['/data', '/tmp']);
    }
    for (const ns of OBJECTS.filter((o) => o.kind === 'Namespace')) {
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], ns.metadata.name).toBe('restricted');
    }
  });

  it('Services select their Deployment\'s pods on the port the process listens on, and the probes ask the right paths', () => {
    const expectedPort: Record<string, number> = { 'rgpu-gateway': 8080, 'rgpu-router': 8081, 'rgpu-provisioner': 8082 };
    for (const d of deployments()) {
      const name = d.metadata!.name!;
      const svc = find<{ spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }>('Service', name);
      const labels = d.spec!.template.metadata!.labels!;
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k], `${name} selector ${k}`).toBe(v);
      expect(d.spec!.selector.matchLabels).toEqual(svc.spec.selector);
      const c = d.spec!.template.spec!.containers[0];
      const port = c.ports!.find((p) => p.name === svc.spec.ports[0].targetPort);
      expect(port?.containerPort, name).toBe(expectedPort[name]);
      expect(svc.spec.ports[0].port, name).toBe(expectedPort[name]);
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    }
    // The addresses in the ConfigMap are these Services.
    expect(CONFIG.RGPU_ROUTER_URL).toBe('http://rgpu-router.remotegpu.svc.cluster.local:8081');
    expect(CONFIG.RGPU_ARTIFACT_BASE_URL).toBe('http://rgpu-gateway.remotegpu.svc.cluster.local:8080');
  });

  it('lets only the routers reach the replicas the runtime creates, on their port', () => {
    const policy = find<{ metadata: { namespace: string }; spec: { podSelector: { matchLabels: Record<string, string> }; ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] } }>('NetworkPolicy', 'rgpu-replicas-ingress');
    expect(policy.metadata.namespace).toBe(CONFIG.RGPU_K8S_NAMESPACE);
    const replica = generatedObjects()[0] as unknown as V1Deployment;
    const replicaLabels = replica.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) expect(replicaLabels[k], k).toBe(v);
    const [rule] = policy.spec.ingress;
    expect(rule.ports.map((p) => p.port)).toEqual(replica.spec!.template.spec!.containers[0].ports!.map((p) => p.containerPort));
    const routerLabels = find<V1Deployment>('Deployment', 'rgpu-router').spec!.template.metadata!.labels!;
    expect(rule.from).toHaveLength(1);
    for (const [k, v] of Object.entries(rule.from[0].podSelector.matchLabels)) expect(routerLabels[k], k).toBe(v);
    expect(rule.from[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'remotegpu' });
  });
});
