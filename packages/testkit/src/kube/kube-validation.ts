import { isQuantity, quantityFor } from './kube-quantity.js';
import type { ResourceType } from './kube-resources.js';
import { fromLabelSelectorSpec, matchesLabels } from './kube-selectors.js';
import { invalid, type FieldError } from './kube-status.js';
import { isRecord, type KubeObject } from './kube.types.js';

/**
 * The validation a client is most likely to trip (k8s.io/kubernetes/pkg/apis/.../validation): names, labels,
 * containers, resources, deployment selectors and their immutability. Failures are 422 `Invalid` with one cause
 * per field, worded as the real server words them.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Kinds whose names must be DNS labels (63 characters, no dots). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

function validateName(object: KubeObject, errors: FieldError[]): void {
  const name = object.metadata.name;
  if (!name) {
    errors.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' });
    return;
  }
  if (LABEL_NAMED.has(object.kind)) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: name, detail: LABEL_MSG });
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: name, detail: SUBDOMAIN_MSG });
  }
}

function validateLabels(labels: unknown, field: string, errors: FieldError[]): void {
  if (labels === undefined || labels === null) return;
  if (!isRecord(labels)) {
    errors.push({ field, type: 'FieldValueInvalid', value: labels, detail: 'must be a map of strings' });
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    if (!LABEL_NAME.test(name) || name.length > 63 || (prefix && !DNS1123_SUBDOMAIN.test(prefix))) {
      errors.push({ field, type: 'FieldValueInvalid', value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" });
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      errors.push({ field, type: 'FieldValueInvalid', value, detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" });
    }
  }
}

function validateResources(resources: unknown, field: string, errors: FieldError[]): void {
  if (!isRecord(resources)) return;
  const requests = isRecord(resources.requests) ? resources.requests : {};
  const limits = isRecord(resources.limits) ? resources.limits : {};
  for (const [kind, list] of [['requests', requests], ['limits', limits]] as const) {
    for (const [name, value] of Object.entries(list)) {
      if (!isQuantity(value)) errors.push({ field: `${field}.${kind}[${name}]`, type: 'FieldValueInvalid', value, detail: 'must be a valid quantity' });
    }
  }
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    const extended = name.includes('/') && !name.startsWith('kubernetes.io/');
    if (extended && (limit === undefined || quantityFor(name, limit as string) !== quantityFor(name, request as string))) {
      errors.push({ field: `${field}.requests[${name}]`, type: 'FieldValueInvalid', value: request, detail: `must be equal to ${name} limit of ${limit ?? 0}` });
    } else if (limit !== undefined && quantityFor(name, request as string) > quantityFor(name, limit as string)) {
      errors.push({ field: `${field}.requests`, type: 'FieldValueInvalid', value: request, detail: `must be less than or equal to ${name} limit of ${limit}` });
    }
  }
}

function validatePodSpec(spec: unknown, field: string, errors: FieldError[]): void {
  if (!isRecord(spec)) {
    errors.push({ field, type: 'FieldValueRequired', detail: '' });
    return;
  }
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push({ field: `${field}.containers`, type: 'FieldValueRequired', detail: '' });
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${field}.containers[${i}]`;
    if (!isRecord(c)) return;
    if (typeof c.name !== 'string' || !c.name) errors.push({ field: `${at}.name`, type: 'FieldValueRequired', detail: '' });
    else if (!DNS1123_LABEL.test(c.name)) errors.push({ field: `${at}.name`, type: 'FieldValueInvalid', value: c.name, detail: LABEL_MSG });
    else if (names.has(c.name)) errors.push({ field: `${at}.name`, type: 'FieldValueDuplicate', detail: '', value: c.name });
    else names.add(c.name);
    if (typeof c.image !== 'string' || !c.image.trim()) errors.push({ field: `${at}.image`, type: 'FieldValueRequired', detail: '' });
    validateResources(c.resources, `${at}.resources`, errors);
  });
}

function validateDeploymentLike(object: KubeObject, errors: FieldError[]): void {
  const spec = isRecord(object.spec) ? object.spec : {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0) {
    errors.push({ field: 'spec.replicas', type: 'FieldValueInvalid', value: spec.replicas, detail: 'must be greater than or equal to 0' });
  }
  const selector = isRecord(spec.selector) ? spec.selector : undefined;
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const labels = isRecord(templateMeta.labels) ? (templateMeta.labels as Record<string, string>) : {};
  if (!selector || fromLabelSelectorSpec(selector).length === 0) {
    errors.push({ field: 'spec.selector', type: 'FieldValueRequired', detail: '' });
    errors.push({ field: 'spec.selector', type: 'FieldValueInvalid', value: selector ?? null, detail: 'empty selector is invalid for deployment' });
  } else if (!matchesLabels(fromLabelSelectorSpec(selector), labels)) {
    errors.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', value: labels, detail: '`selector` does not match template `labels`' });
  }
  validateLabels(labels, 'spec.template.metadata.labels', errors);
  validatePodSpec(template.spec, 'spec.template.spec', errors);
  const strategy = isRecord(spec.strategy) ? spec.strategy : {};
  const rolling = isRecord(strategy.rollingUpdate) ? strategy.rollingUpdate : undefined;
  if (rolling && (rolling.maxSurge === 0 || rolling.maxSurge === '0%') && (rolling.maxUnavailable === 0 || rolling.maxUnavailable === '0%')) {
    errors.push({ field: 'spec.strategy.rollingUpdate.maxUnavailable', type: 'FieldValueInvalid', value: rolling.maxUnavailable, detail: 'may not be 0 when `maxSurge` is 0' });
  }
}

function validateService(object: KubeObject, errors: FieldError[]): void {
  const spec = isRecord(object.spec) ? object.spec : {};
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  ports.forEach((p, i) => {
    if (!isRecord(p)) return;
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
      errors.push({ field: `spec.ports[${i}].port`, type: 'FieldValueInvalid', value: p.port ?? 0, detail: 'must be between 1 and 65535, inclusive' });
    }
  });
  if (spec.type !== 'ExternalName' && ports.length === 0 && spec.clusterIP !== 'None') {
    errors.push({ field: 'spec.ports', type: 'FieldValueRequired', detail: '' });
  }
}

/** Validates a create or an update (`previous` set); throws a 422 naming every bad field. */
export function validateObject(type: ResourceType, object: KubeObject, previous?: KubeObject): void {
  const errors: FieldError[] = [];
  validateName(object, errors);
  validateLabels(object.metadata.labels, 'metadata.labels', errors);
  switch (object.kind) {
    case 'Pod':
      validatePodSpec(object.spec, 'spec', errors);
      break;
    case 'Deployment':
    case 'ReplicaSet':
      validateDeploymentLike(object, errors);
      if (previous && JSON.stringify((previous.spec as { selector?: unknown }).selector) !== JSON.stringify((object.spec as { selector?: unknown } | undefined)?.selector)) {
        errors.push({ field: 'spec.selector', type: 'FieldValueInvalid', value: (object.spec as { selector?: unknown } | undefined)?.selector ?? null, detail: 'field is immutable' });
      }
      break;
    case 'Service':
      validateService(object, errors);
      break;
    default:
      break;
  }
  if (errors.length) throw invalid(type, object.metadata.name ?? '', errors);
}
