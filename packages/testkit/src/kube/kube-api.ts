import { randomUUID } from 'node:crypto';
import { applyDefaults } from './kube-defaults.js';
import { selectorMatcher } from './kube-fields.js';
import { applyPatch, type PatchType } from './kube-patch.js';
import { apiVersionOf, RESOURCES, resourceForKind, type ResourceType } from './kube-resources.js';
import { KubeStore, nowTimestamp } from './kube-store.js';
import { alreadyExists, badRequest, conflict, invalid, notFound, successStatus, type StatusBody } from './kube-status.js';
import { validateObject } from './kube-validation.js';
import { clone, isRecord, type KubeObject } from './kube.types.js';

/**
 * The API server's semantics above the store: admission (defaults, validation), the status subresource,
 * generation, optimistic concurrency, patches, deletion with finalizers, grace periods and owner propagation.
 * The HTTP layer and the simulated controllers both go through it (controllers may also write the store directly
 * for status, as a controller's status writes skip admission in a real cluster too).
 */

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

export type Subresource = 'status' | undefined;

/** Kinds whose DELETE answers with the deleted object, as their registries set ReturnDeletedObject. */
const RETURNS_DELETED = new Set(['Pod', 'Service', 'Namespace', 'Node']);

export interface KubeApiOptions {
  /** How long a bound pod stays Terminating after a graceful delete (the kubelet's shutdown), in ms; 0 = at once. */
  podTerminationMs?: number;
}

export class KubeApi {
  constructor(
    readonly store: KubeStore,
    private readonly options: KubeApiOptions = {},
  ) {}

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return this.store.mustGet(type, namespace, name);
  }

  list(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): ListResult {
    const matches = selectorMatcher(type, options.labelSelector, options.fieldSelector);
    const all = this.store.list(type, namespace);
    let items = all.items.filter(matches);
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (options.continue) {
      let after: string;
      try {
        after = String((JSON.parse(Buffer.from(options.continue, 'base64url').toString()) as { start?: unknown }).start ?? '');
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      items = items.filter((o) => key(o) > after);
    }
    const result: ListResult = { items, resourceVersion: all.resourceVersion };
    if (options.limit && options.limit > 0 && items.length > options.limit) {
      result.items = items.slice(0, options.limit);
      result.remainingItemCount = items.length - options.limit;
      result.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(all.resourceVersion), start: key(result.items[result.items.length - 1]) })).toString('base64url');
    }
    return result;
  }

  private checkBody(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (!isRecord(body)) throw badRequest('Object \'Kind\' is missing in the request body');
    const expected = apiVersionOf(type);
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (body.kind !== undefined && body.kind !== type.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind})`);
    }
    const object = clone(body) as unknown as KubeObject;
    object.apiVersion = expected;
    object.kind = type.kind;
    object.metadata = isRecord(object.metadata) ? object.metadata : {};
    if (type.namespaced) {
      if (object.metadata.namespace && namespace && object.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = namespace ?? object.metadata.namespace;
    } else delete object.metadata.namespace;
    return object;
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced) return;
    const nsType = resourceForKind('Namespace');
    const ns = namespace ? this.store.get(nsType, undefined, namespace) : undefined;
    if (!ns) throw notFound(nsType, namespace ?? '');
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: { dryRun?: boolean } = {}): KubeObject {
    const object = this.checkBody(type, namespace, body);
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation'] as const) delete object.metadata[field];
    if (type.kind === 'Namespace' || type.kind === 'Node') object.metadata.namespace = undefined;
    this.requireNamespace(type, object.metadata.namespace);
    applyDefaults(object);
    validateObject(type, object);
    if (options.dryRun) {
      if (this.store.get(type, object.metadata.namespace, object.metadata.name ?? '')) throw alreadyExists(type, object.metadata.name ?? '');
      return { ...object, metadata: { ...object.metadata, uid: randomUUID(), creationTimestamp: nowTimestamp() } };
    }
    return this.store.create(type, object);
  }

  /** PUT: the main resource keeps its status; `status` keeps everything but status. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: { subresource?: Subresource; dryRun?: boolean } = {}): KubeObject {
    const object = this.checkBody(type, namespace, body);
    if (object.metadata.name !== undefined && object.metadata.name !== name) {
      throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
    }
    object.metadata.name = name;
    const current = this.store.mustGet(type, namespace, name);
    return this.replace(type, current, object, options);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options: { subresource?: Subresource; dryRun?: boolean } = {}): KubeObject {
    const current = this.store.mustGet(type, namespace, name);
    const patched = applyPatch(patchType, current, patch);
    const object = this.checkBody(type, namespace, patched);
    if (object.metadata.name !== name) throw badRequest(`the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`);
    // A patch carries a resourceVersion only when the client asks for a precondition (kubectl apply does not).
    const patchedRv = isRecord(patch) && isRecord(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (typeof patchedRv !== 'string') object.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.replace(type, current, object, options);
  }

  private replace(type: ResourceType, current: KubeObject, object: KubeObject, options: { subresource?: Subresource; dryRun?: boolean }): KubeObject {
    if (object.metadata.resourceVersion && object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, current.metadata.name ?? '');
    }
    let next: KubeObject;
    if (options.subresource === 'status') {
      next = { ...clone(current), status: object.status };
    } else {
      next = object;
      for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (current.metadata[field] === undefined) delete next.metadata[field];
        else (next.metadata as Record<string, unknown>)[field] = current.metadata[field];
      }
      if (type.subresources.includes('status')) next.status = current.status;
      if (type.kind === 'Namespace') next.metadata.namespace = undefined;
      applyDefaults(next);
      validateObject(type, next, current);
      if (type.kind === 'Pod') checkPodUpdate(type, current, next);
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    const specChanged = JSON.stringify(current.spec) !== JSON.stringify(next.spec);
    if (options.dryRun) return next;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length && current.metadata.finalizers?.length) {
      // The last finalizer is gone: the deletion that was waiting for it completes.
      this.store.update(type, next);
      return this.store.remove(type, next.metadata.namespace, next.metadata.name ?? '');
    }
    return this.store.update(type, next, { bumpGeneration: type.generation && specChanged });
  }

  /**
   * Deletes with the real server's rules: finalizers and bound pods' grace periods leave the object in place with
   * a deletionTimestamp; dependents (ownerReferences) go in the background, first (Foreground) or stay (Orphan).
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): { object?: KubeObject; status?: StatusBody; accepted: boolean } {
    const current = this.store.mustGet(type, namespace, name);
    if (options.preconditions?.uid && options.preconditions.uid !== current.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    if (options.dryRun) return { object: current, accepted: false };
    const policy = options.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') this.orphanDependents(current);
    if (policy === 'Foreground') this.deleteDependents(current, 'Foreground');

    const graceful = this.gracePeriodMs(type, current, options);
    if ((current.metadata.finalizers ?? []).length > 0 || graceful > 0 || type.kind === 'Namespace') {
      if (!current.metadata.deletionTimestamp) {
        current.metadata.deletionTimestamp = nowTimestamp();
        if (type.kind === 'Pod') current.metadata.deletionGracePeriodSeconds = options.gracePeriodSeconds ?? ((current.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
        if (type.kind === 'Namespace') (current.status as Record<string, unknown>).phase = 'Terminating';
      }
      const updated = this.store.update(type, { ...current, metadata: { ...current.metadata, resourceVersion: undefined } });
      if (type.kind === 'Namespace') setImmediate(() => this.finishNamespace(name));
      else if (graceful > 0 && !(current.metadata.finalizers ?? []).length) setTimeout(() => this.finishGraceful(type, updated), graceful).unref();
      if (policy === 'Background') setImmediate(() => this.deleteDependents(updated, 'Background'));
      return { object: updated, accepted: true };
    }
    const deleted = this.store.remove(type, namespace, name);
    if (policy === 'Background') setImmediate(() => this.deleteDependents(deleted, 'Background'));
    if (RETURNS_DELETED.has(type.kind)) return { object: deleted, accepted: false };
    return { status: successStatus(type, name, deleted.metadata.uid), accepted: false };
  }

  deleteCollection(type: ResourceType, namespace: string | undefined, options: ListOptions & DeleteOptions): KubeObject[] {
    const { items } = this.list(type, namespace, { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector });
    const out: KubeObject[] = [];
    for (const item of items) {
      try {
        const result = this.delete(type, item.metadata.namespace, item.metadata.name ?? '', options);
        out.push(result.object ?? item);
      } catch {
        // Already gone (a dependent removed by an earlier owner): the collection delete goes on.
      }
    }
    return out;
  }

  private gracePeriodMs(type: ResourceType, current: KubeObject, options: DeleteOptions): number {
    if (type.kind !== 'Pod' || !this.options.podTerminationMs) return 0;
    if (options.gracePeriodSeconds === 0) return 0;
    const bound = !!(current.spec as { nodeName?: string }).nodeName;
    return bound ? this.options.podTerminationMs : 0;
  }

  private finishGraceful(type: ResourceType, object: KubeObject): void {
    const current = this.store.get(type, object.metadata.namespace, object.metadata.name ?? '');
    if (current && current.metadata.uid === object.metadata.uid && !(current.metadata.finalizers ?? []).length) {
      this.store.remove(type, current.metadata.namespace, current.metadata.name ?? '');
    }
  }

  private finishNamespace(name: string): void {
    for (const type of RESOURCES) {
      if (!type.namespaced) continue;
      for (const item of this.store.list(type, name).items) {
        try {
          this.store.remove(type, name, item.metadata.name ?? '');
        } catch {
          // removed meanwhile
        }
      }
    }
    const nsType = resourceForKind('Namespace');
    if (this.store.get(nsType, undefined, name)) this.store.remove(nsType, undefined, name);
  }

  /** Objects whose ownerReferences name `owner`'s uid. */
  dependentsOf(owner: KubeObject): { type: ResourceType; object: KubeObject }[] {
    const uid = owner.metadata.uid;
    const out: { type: ResourceType; object: KubeObject }[] = [];
    for (const type of RESOURCES) {
      if (!type.namespaced) continue;
      for (const object of this.store.scan(type, owner.metadata.namespace)) {
        if (object.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ type, object: structuredClone(object) });
      }
    }
    return out;
  }

  /** The garbage collector's part: dependents whose owner is gone are deleted the same way. */
  deleteDependents(owner: KubeObject, policy: 'Background' | 'Foreground'): void {
    for (const { type, object } of this.dependentsOf(owner)) {
      try {
        this.delete(type, object.metadata.namespace, object.metadata.name ?? '', { propagationPolicy: policy });
      } catch {
        // already deleted
      }
    }
  }

  private orphanDependents(owner: KubeObject): void {
    for (const { type, object } of this.dependentsOf(owner)) {
      object.metadata.ownerReferences = object.metadata.ownerReferences?.filter((r) => r.uid !== owner.metadata.uid);
      if (!object.metadata.ownerReferences?.length) delete object.metadata.ownerReferences;
      this.store.update(type, { ...object, metadata: { ...object.metadata, resourceVersion: undefined } });
    }
  }
}

/** Pod specs are immutable but for images and a few fields (ValidatePodUpdate). */
function checkPodUpdate(type: ResourceType, current: KubeObject, next: KubeObject): void {
  const strip = (o: KubeObject) => {
    const spec = clone(o.spec) as Record<string, unknown>;
    for (const list of ['containers', 'initContainers']) {
      const containers = spec[list];
      if (Array.isArray(containers)) for (const c of containers) if (isRecord(c)) delete c.image;
    }
    delete spec.activeDeadlineSeconds;
    delete spec.tolerations;
    delete spec.terminationGracePeriodSeconds;
    return JSON.stringify(spec);
  };
  if (strip(current) !== strip(next)) {
    throw invalid(type, current.metadata.name ?? '', [
      { field: 'spec', type: 'FieldValueForbidden', detail: 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' },
    ]);
  }
}
