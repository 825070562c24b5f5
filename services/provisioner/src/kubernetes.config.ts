import type { KubeconfigSource, Toleration } from '@remotegpu/runtime';

/** What `RGPU_RUNTIME=kubernetes` needs (DESIGN §7), read from the provisioner's environment. */
export interface ProvisionerKubernetesConfig {
  /** `KUBECONFIG` (one file), else the pod's service account (in a cluster). */
  kubeconfig: KubeconfigSource;
  namespace: string;
  image: string;
  gpuNodeSelector: Record<string, string>;
  gpuTolerations: Toleration[];
  imagePullSecrets: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label key: an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
/** Inputs are operator-written and short; bounding them keeps every check linear and cheap. */
const MAX_TEXT = 16_384;

export function kubernetesConfigFromEnv(read: (name: string) => string | undefined, problems: string[]): ProvisionerKubernetesConfig {
  const kubeconfigPath = read('KUBECONFIG');
  let kubeconfig: KubeconfigSource = { kind: 'in-cluster' };
  if (kubeconfigPath !== undefined) {
    if (kubeconfigPath.includes(':')) problems.push('KUBECONFIG: name one kubeconfig file (a list of files is not merged here)');
    kubeconfig = { kind: 'file', path: kubeconfigPath };
  } else if (read('KUBERNETES_SERVICE_HOST') === undefined) {
    problems.push('KUBECONFIG: required with RGPU_RUNTIME=kubernetes outside a cluster (in a pod the service account is used)');
  }

  const namespace = read('RGPU_K8S_NAMESPACE');
  if (namespace === undefined) problems.push('RGPU_K8S_NAMESPACE: required with RGPU_RUNTIME=kubernetes (the namespace of the replicas\' Deployments)');
  else if (!DNS_LABEL.test(namespace)) problems.push(`RGPU_K8S_NAMESPACE: must be a DNS label (lowercase letters, digits, "-"), got "${namespace}"`);

  const image = read('RGPU_K8S_IMAGE');
  if (image === undefined) problems.push('RGPU_K8S_IMAGE: required with RGPU_RUNTIME=kubernetes (the platform image replicas run, e.g. registry.example.com/remotegpu:1.0)');
  else if (/\s/.test(image) || image.length > 512) problems.push('RGPU_K8S_IMAGE: must be an image reference without spaces');

  return {
    kubeconfig,
    namespace: namespace ?? '',
    image: image ?? '',
    gpuNodeSelector: nodeSelector(read('RGPU_K8S_GPU_NODE_SELECTOR'), problems),
    gpuTolerations: tolerations(read('RGPU_K8S_TOLERATIONS'), problems),
    imagePullSecrets: pullSecrets(read('RGPU_K8S_IMAGE_PULL_SECRETS'), problems),
  };
}

/** `key=value,key2=value2` (as `kubectl --selector` writes equality) or a JSON object. */
function nodeSelector(text: string | undefined, problems: string[]): Record<string, string> {
  const name = 'RGPU_K8S_GPU_NODE_SELECTOR';
  if (text === undefined) return {};
  if (text.length > MAX_TEXT) {
    problems.push(`${name}: longer than ${MAX_TEXT} characters`);
    return {};
  }
  let pairs: [string, unknown][];
  if (text.trim().startsWith('{')) {
    const parsed = parseJson(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${name}: must be key=value pairs separated by commas, or a JSON object of strings`);
      return {};
    }
    pairs = Object.entries(parsed);
  } else {
    pairs = text.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair.trim(), undefined] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    });
  }
  const selector: Record<string, string> = {};
  for (const [key, value] of pairs) {
    if (!LABEL_KEY.test(key) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      problems.push(`${name}: "${key}=${String(value)}" is not a label key=value (e.g. nvidia.com/gpu.present=true)`);
      continue;
    }
    selector[key] = value;
  }
  return selector;
}

/** A JSON array of tolerations, as in a pod spec: `[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]`. */
function tolerations(text: string | undefined, problems: string[]): Toleration[] {
  const name = 'RGPU_K8S_TOLERATIONS';
  if (text === undefined) return [];
  const parsed = text.length > MAX_TEXT ? undefined : parseJson(text);
  if (!Array.isArray(parsed)) {
    problems.push(`${name}: must be a JSON array of tolerations, e.g. [{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]`);
    return [];
  }
  const out: Toleration[] = [];
  parsed.forEach((item: unknown, i) => {
    const bad = (why: string) => problems.push(`${name}[${i}]: ${why}`);
    if (!item || typeof item !== 'object' || Array.isArray(item)) return bad('must be an object');
    const t = item as Record<string, unknown>;
    const unknown = Object.keys(t).filter((k) => !['key', 'operator', 'value', 'effect', 'tolerationSeconds'].includes(k));
    if (unknown.length) return bad(`unknown field(s) ${unknown.join(', ')}`);
    if (t.key !== undefined && (typeof t.key !== 'string' || (t.key !== '' && !LABEL_KEY.test(t.key)))) return bad('key must be a label key');
    const operator = t.operator ?? 'Equal';
    if (operator !== 'Exists' && operator !== 'Equal') return bad('operator must be Exists or Equal');
    if (t.value !== undefined && (typeof t.value !== 'string' || !LABEL_VALUE.test(t.value))) return bad('value must be a label value');
    if (operator === 'Exists' && t.value) return bad('value must be empty with operator Exists');
    if (t.effect !== undefined && (typeof t.effect !== 'string' || !EFFECTS.includes(t.effect))) return bad(`effect must be one of ${EFFECTS.join(', ')}`);
    if (t.tolerationSeconds !== undefined && !(Number.isInteger(t.tolerationSeconds) && (t.tolerationSeconds as number) >= 0)) {
      return bad('tolerationSeconds must be a non-negative integer');
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') return bad('tolerationSeconds only applies to effect NoExecute');
    out.push(t as Toleration);
  });
  return out;
}

function pullSecrets(text: string | undefined, problems: string[]): string[] {
  if (text === undefined) return [];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!DNS_SUBDOMAIN.test(n)) problems.push(`RGPU_K8S_IMAGE_PULL_SECRETS: "${n}" is not a Secret name (lowercase letters, digits, "-", ".")`);
  }
  return names;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
