import { createHash } from 'node:crypto';
import { SERVER_VERSION } from './kube-discovery.js';
import { groupVersions, RESOURCES, type ResourceType } from './kube-resources.js';

/**
 * OpenAPI v3, as much as kubectl 1.32 reads of it:
 *
 * - `kubectl apply/create` validates through the server when the group-version's document shows a PATCH
 *   operation for the kind taking the `fieldValidation` query parameter (QueryParamVerifierV3); without it kubectl
 *   falls back to client-side validation with /openapi/v2 and fails when that is missing.
 * - `kubectl apply` computes its strategic merge patch from a component schema tagged with the kind's
 *   `x-kubernetes-group-version-kind`; when none is tagged it uses the patch metadata compiled into kubectl for
 *   built-in kinds (the same merge keys). The fake tags none, so kubectl's built-in metadata is used: it is
 *   exactly what the real schema says for these kinds, and a partial schema here would be worse than none.
 *
 * /openapi/v2 is not served (404): kubectl only needs it when v3 is missing. The server does not enforce
 * `fieldValidation=Strict` on unknown fields (it has no schemas); it accepts the parameter.
 */

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function documentFor(group: string, version: string): object | undefined {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!resources.length) return undefined;
  const paths: Record<string, object> = {};
  for (const r of resources) Object.assign(paths, pathsFor(r));
  const schemas: Record<string, object> = {};
  for (const r of resources) schemas[schemaName(r)] = { description: `${r.kind} (schema not published by the fake kube-apiserver)`, type: 'object' };
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

function schemaName(r: ResourceType): string {
  const pkg = r.group ? r.group.split('.')[0] : 'core';
  return `io.k8s.api.${pkg}.${r.version}.${r.kind}`;
}

function operation(r: ResourceType, action: string, verb: string, kind = r.kind, extra: Record<string, unknown> = {}): object {
  const gvk = { group: r.group, version: r.version, kind };
  const parameters: object[] = [
    { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
  ];
  if (verb === 'patch' || verb === 'update' || verb === 'create') parameters.push({ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } });
  const ref = { $ref: `#/components/schemas/${schemaName(r)}` };
  const op: Record<string, unknown> = {
    operationId: `${verb}${r.group ? r.group.split('.')[0] : 'Core'}${r.version}${action}`,
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': gvk,
    parameters,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    ...extra,
  };
  if (verb === 'patch') op.requestBody = { content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: { type: 'object' } }])), required: true };
  if (verb === 'update' || verb === 'create') op.requestBody = { content: { '*/*': { schema: ref } }, required: true };
  return op;
}

function pathsFor(r: ResourceType): Record<string, object> {
  const base = `/${gvPath(r.group, r.version)}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const item = `${collection}/{name}`;
  const out: Record<string, object> = {
    [collection]: { get: operation(r, r.kind, 'list'), post: operation(r, r.kind, 'post'), delete: operation(r, r.kind, 'deletecollection') },
    [item]: { get: operation(r, r.kind, 'get'), put: operation(r, r.kind, 'update'), patch: operation(r, r.kind, 'patch'), delete: operation(r, r.kind, 'delete') },
  };
  if (r.subresources.includes('status')) out[`${item}/status`] = { get: operation(r, `${r.kind}Status`, 'get'), put: operation(r, `${r.kind}Status`, 'update'), patch: operation(r, `${r.kind}Status`, 'patch') };
  if (r.subresources.includes('scale')) {
    const scale = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    out[`${item}/scale`] = { get: operation(r, `${r.kind}Scale`, 'get', 'Scale', { 'x-kubernetes-group-version-kind': scale }), put: operation(r, `${r.kind}Scale`, 'update', 'Scale', { 'x-kubernetes-group-version-kind': scale }), patch: operation(r, `${r.kind}Scale`, 'patch', 'Scale', { 'x-kubernetes-group-version-kind': scale }) };
  }
  return out;
}

const documents = new Map<string, { body: object; hash: string }>();
for (const { group, version } of groupVersions()) {
  const body = documentFor(group, version);
  if (!body) continue;
  const hash = createHash('sha512').update(JSON.stringify(body)).digest('hex').slice(0, 128).toUpperCase();
  documents.set(gvPath(group, version), { body, hash });
}

export function openApiV2(): object | undefined {
  return undefined;
}

/** `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=…"}}}` */
export function openApiV3Index(): object {
  const paths: Record<string, object> = {};
  for (const [path, { hash }] of documents) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  return { paths };
}

export function openApiV3Document(path: string): object | undefined {
  return documents.get(path)?.body;
}
