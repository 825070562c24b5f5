import { randomBytes } from 'node:crypto';
import { isRecord, type KubeObject } from './kube.types.js';

/**
 * The defaults the real API server fills in (SetDefaults_* in k8s.io/kubernetes/pkg/apis/.../v1/defaults.go and
 * the admission plugins every cluster runs), so that what a client reads back looks like a cluster's answer.
 */

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isRecord(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

function defaultProbe(probe: unknown): void {
  if (!isRecord(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (isRecord(probe.httpGet)) setDefault(probe.httpGet, 'scheme', 'HTTP');
}

function defaultContainer(container: unknown): void {
  if (!isRecord(container)) return;
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  const image = typeof container.image === 'string' ? container.image : '';
  const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
  setDefault(container, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(container, 'resources', {});
  const resources = obj(container, 'resources');
  // A limit without a request requests the limit (SetDefaults_Container); GPUs can only be asked for this way.
  if (isRecord(resources.limits)) {
    const requests = obj(resources, 'requests');
    for (const [name, value] of Object.entries(resources.limits)) setDefault(requests, name, value);
  }
  if (Array.isArray(container.ports)) for (const port of container.ports) if (isRecord(port)) setDefault(port, 'protocol', 'TCP');
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) defaultProbe(container[probe]);
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) containers.forEach(defaultContainer);
  }
}

function defaultTemplate(spec: Obj): void {
  const template = obj(spec, 'template');
  // A template's zero creationTimestamp serializes as null: every real Deployment shows it.
  setDefault(obj(template, 'metadata'), 'creationTimestamp', null);
  defaultPodSpec(obj(template, 'spec'));
}

function defaultPod(pod: Obj): void {
  const spec = obj(pod, 'spec');
  defaultPodSpec(spec);
  // Admission: ServiceAccount, Priority and DefaultTolerationSeconds.
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => isRecord(t) && t.key === key)) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
  const status = obj(pod, 'status');
  setDefault(status, 'phase', 'Pending');
  setDefault(status, 'qosClass', qosClass(spec));
}

function qosClass(spec: Obj): string {
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : [];
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const resources = isRecord(c.resources) ? c.resources : {};
    const requests = isRecord(resources.requests) ? resources.requests : {};
    const limits = isRecord(resources.limits) ? resources.limits : {};
    if (Object.keys(requests).length || Object.keys(limits).length) anySet = true;
    for (const r of ['cpu', 'memory']) if (limits[r] === undefined || String(limits[r]) !== String(requests[r] ?? limits[r])) guaranteed = false;
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

let nextClusterIp = 1;

function defaultService(service: Obj): void {
  const spec = obj(service, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const n = nextClusterIp++;
    spec.clusterIP = `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  }
  setDefault(spec, 'clusterIPs', [spec.clusterIP]);
  setDefault(spec, 'ipFamilies', ['IPv4']);
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (Array.isArray(spec.ports)) {
    for (const port of spec.ports) {
      if (!isRecord(port)) continue;
      setDefault(port, 'protocol', 'TCP');
      setDefault(port, 'targetPort', port.port);
    }
  }
  setDefault(service, 'status', { loadBalancer: {} });
}

function defaultDeployment(deployment: Obj): void {
  const spec = obj(deployment, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = obj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = obj(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
  setDefault(deployment, 'status', {});
}

function defaultReplicaSet(rs: Obj): void {
  const spec = obj(rs, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultTemplate(spec);
  setDefault(rs, 'status', { replicas: 0 });
}

function defaultNamespace(ns: Obj): void {
  const metadata = obj(ns, 'metadata');
  obj(metadata, 'labels')['kubernetes.io/metadata.name'] = String(metadata.name);
  setDefault(obj(ns, 'spec'), 'finalizers', ['kubernetes']);
  setDefault(obj(ns, 'status'), 'phase', 'Active');
}

function defaultSecret(secret: Obj): void {
  setDefault(secret, 'type', 'Opaque');
  if (isRecord(secret.stringData)) {
    const data = obj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    delete secret.stringData;
  }
}

/** Fills a generated name (`generateName` + 5 characters) and the kind's defaults in place. */
export function applyDefaults(object: KubeObject): void {
  const metadata = object.metadata;
  if (!metadata.name && metadata.generateName) metadata.name = metadata.generateName + randomSuffix();
  const o = object as unknown as Obj;
  switch (object.kind) {
    case 'Pod':
      return defaultPod(o);
    case 'Service':
      return defaultService(o);
    case 'Deployment':
      return defaultDeployment(o);
    case 'ReplicaSet':
      return defaultReplicaSet(o);
    case 'Namespace':
      return defaultNamespace(o);
    case 'Secret':
      return defaultSecret(o);
    default:
      return;
  }
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix of generated names, from the same alphabet as k8s.io/apimachinery/pkg/util/rand. */
export function randomSuffix(length = 5): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += SAFE_ALPHABET[b % SAFE_ALPHABET.length];
  return out;
}

/** rand.SafeEncodeString: digits of a hash mapped onto the alphabet without vowels (pod-template-hash). */
export function safeEncode(text: string): string {
  let out = '';
  for (const ch of text) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}
