import { badRequest, unsupportedMediaType } from './kube-status.js';
import { clone, isRecord } from './kube.types.js';

/**
 * The three PATCH types of the real API server for built-in resources: JSON merge patch (RFC 7386), strategic
 * merge patch (what `kubectl apply`/`patch` and client-node's patch helpers send; lists merge by the keys
 * declared on the Go types) and JSON patch (RFC 6902). Server-side apply (`application/apply-patch+yaml`) is not
 * served: 415, as a server without it would answer.
 */

export type PatchType = 'merge' | 'strategic' | 'json';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (base) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/json-patch+json':
      return 'json';
    default:
      throw unsupportedMediaType(base || '(none)');
  }
}

export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  switch (type) {
    case 'merge':
      return mergePatch(target, patch);
    case 'strategic':
      return strategicMergePatch(target, patch, []);
    case 'json':
      return jsonPatch(target, patch);
  }
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The patchMergeKey of a list field (from the `patchMergeKey` tags of k8s.io/api), by field name and context. */
function mergeKeyFor(field: string, path: string[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      return path.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers') ? 'containerPort' : 'port';
    case 'conditions':
    case 'addresses':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'hostAliases':
    case 'podIPs':
    case 'hostIPs':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    default:
      return undefined;
  }
}

/** Primitive lists with `patchStrategy:"merge"`: the patch's items are added, not substituted. */
function mergesPrimitives(field: string): boolean {
  return field === 'finalizers';
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVES = '$deleteFromPrimitiveList/';

function strategicMergePatch(target: unknown, patch: unknown, path: string[]): unknown {
  if (!isRecord(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return clone(rest);
  }
  if (directive === 'delete') return undefined;
  if (directive !== undefined) throw badRequest(`Unknown patch type: ${String(directive)}`);

  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  const retain = patch.$retainKeys;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key.startsWith(SET_ORDER)) continue;
    if (key.startsWith(DELETE_PRIMITIVES)) {
      const field = key.slice(DELETE_PRIMITIVES.length);
      const remove = Array.isArray(value) ? value : [];
      const current = result[field];
      if (Array.isArray(current)) result[field] = current.filter((v) => !remove.some((r) => r === v));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value, [...path, key]);
    } else if (isRecord(value)) {
      const merged = strategicMergePatch(result[key], value, [...path, key]);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER) || !Array.isArray(order)) continue;
    const field = key.slice(SET_ORDER.length);
    const list = result[field];
    if (Array.isArray(list)) result[field] = reorder(list, order, mergeKeyFor(field, path));
  }
  return result;
}

function mergeList(field: string, current: unknown, patch: unknown[], path: string[]): unknown[] {
  const replaceAll = patch.find((item) => isRecord(item) && item.$patch === 'replace' && Object.keys(item).length === 1);
  if (replaceAll) return clone(patch.filter((item) => item !== replaceAll));
  const base = Array.isArray(current) ? [...current] : [];
  const key = mergeKeyFor(field, path);
  if (!key) {
    if (mergesPrimitives(field)) {
      for (const item of patch) if (!base.includes(item)) base.push(item);
      return base;
    }
    return clone(patch);
  }
  for (const item of patch) {
    if (!isRecord(item)) throw badRequest(`${path.join('.')}: the list of maps has an item that is not a map`);
    const index = base.findIndex((b) => isRecord(b) && b[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) base.splice(index, 1);
      continue;
    }
    if (index >= 0) base[index] = strategicMergePatch(base[index], item, path);
    else base.push(strategicMergePatch(undefined, item, path));
  }
  return base;
}

function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const keyOf = (item: unknown) => (key && isRecord(item) ? item[key] : item);
  const ordered: unknown[] = [];
  const rest = [...list];
  for (const wanted of order) {
    const wantedKey = key && isRecord(wanted) ? wanted[key] : wanted;
    const index = rest.findIndex((item) => keyOf(item) === wantedKey);
    if (index >= 0) ordered.push(...rest.splice(index, 1));
  }
  return [...ordered, ...rest];
}

function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw badRequest(`invalid JSON pointer: ${String(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  let doc = clone(target);
  for (const op of patch) {
    if (!isRecord(op)) throw badRequest('json patch operation must be an object');
    const path = pointer(op.path);
    switch (op.op) {
      case 'add':
        doc = setAt(doc, path, clone(op.value), 'add');
        break;
      case 'replace':
        getAt(doc, path);
        doc = setAt(doc, path, clone(op.value), 'replace');
        break;
      case 'remove':
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) throw badRequest(`testing value ${String(op.path)} failed`);
        break;
      case 'move':
      case 'copy': {
        const from = pointer(op.from);
        const value = clone(getAt(doc, from));
        if (op.op === 'move') doc = removeAt(doc, from);
        doc = setAt(doc, path, value, 'add');
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

function getAt(doc: unknown, path: string[]): unknown {
  let node = doc;
  for (const segment of path) {
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) node = node[Number(segment)];
    else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, segment)) node = node[segment];
    else throw badRequest(`the server rejected our request due to an error in our request: missing path /${path.join('/')}`);
  }
  return node;
}

function setAt(doc: unknown, path: string[], value: unknown, mode: 'add' | 'replace'): unknown {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index > parent.length) throw badRequest(`invalid array index ${last}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isRecord(parent)) parent[last] = value;
  else throw badRequest(`cannot set /${path.join('/')}`);
  return doc;
}

function removeAt(doc: unknown, path: string[]): unknown {
  if (path.length === 0) return undefined;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isRecord(parent)) delete parent[last];
  return doc;
}
