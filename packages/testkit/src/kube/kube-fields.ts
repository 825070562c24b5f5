import type { ResourceType } from './kube-resources.js';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from './kube-selectors.js';
import { badRequest } from './kube-status.js';
import { isRecord, type KubeObject } from './kube.types.js';

/** The value a field selector compares for `path` (`status.phase`, `involvedObject.name`); absent → "". */
export function fieldValue(object: KubeObject, path: string): string {
  let node: unknown = object;
  for (const segment of path.split('.')) {
    if (!isRecord(node)) return '';
    node = node[segment];
  }
  if (node === undefined || node === null) return '';
  if (Array.isArray(node)) return node.map((n) => (isRecord(n) ? String(n.ip ?? '') : String(n))).join(',');
  if (isRecord(node)) return '';
  return String(node);
}

/**
 * One predicate for `labelSelector` and `fieldSelector`, refusing fields the real server does not index for
 * this resource (400 `field label not supported: x`), as the real server would.
 */
export function selectorMatcher(type: ResourceType, labelSelector: string | undefined, fieldSelector: string | undefined): (object: KubeObject) => boolean {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector);
  for (const f of fields) {
    if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !type.fieldLabels.includes(f.field)) {
      throw badRequest(`field label not supported: ${f.field}`);
    }
  }
  return (object) => matchesLabels(labels, object.metadata.labels) && fields.every((f) => (fieldValue(object, f.field) === f.value) !== f.negated);
}
