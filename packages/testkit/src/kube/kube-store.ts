import { randomUUID } from 'node:crypto';
import { resourceKey, type ResourceType } from './kube-resources.js';
import { alreadyExists, conflict, gone, notFound } from './kube-status.js';
import { clone, type KubeObject } from './kube.types.js';

/**
 * The fake's etcd: objects by resource, namespace and name; one global resourceVersion counter; a bounded
 * history of changes that watches resume from (older → 410 Gone, as after an etcd compaction); listeners for
 * the simulated controllers. Everything handed out is a copy.
 */

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreChange {
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED change. */
  previous?: KubeObject;
  rv: number;
}

export interface WatchFilter {
  namespace?: string;
  matches(object: KubeObject): boolean;
}

export interface WatchSink {
  event(type: WatchEventType, object: KubeObject): void;
  /** History was compacted past what this watch has delivered: it must end with a 410. */
  expired(oldest: number): void;
}

interface Watcher {
  key: string;
  filter: WatchFilter;
  sink: WatchSink;
}

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class KubeStore {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreChange[] = [];
  /** The oldest resourceVersion a watch may still start from. */
  private oldestWatchable = 1000;
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<(change: StoreChange) => void>();

  constructor(private readonly historyLimit = 2000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(type);
    let map = this.objects.get(key);
    if (!map) this.objects.set(key, (map = new Map()));
    return map;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(objectKey(type.namespaced ? namespace : undefined, name));
    return found ? clone(found) : undefined;
  }

  mustGet(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.get(type, namespace, name);
    if (!found) throw notFound(type, name);
    return found;
  }

  /**
   * Sorted by namespace then name, like etcd's key order. `matches` filters before copying: a controller looking
   * for its own few objects among thousands must not copy them all (it made the fake quadratic at 500 services).
   */
  list(type: ResourceType, namespace?: string, matches?: (object: KubeObject) => boolean): { items: KubeObject[]; resourceVersion: string } {
    const items: KubeObject[] = [];
    for (const object of this.bucket(type).values()) {
      if ((namespace === undefined || object.metadata.namespace === namespace) && (!matches || matches(object))) items.push(clone(object));
    }
    items.sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name ?? '').localeCompare(objectKey(b.metadata.namespace, b.metadata.name ?? '')));
    return { items, resourceVersion: String(this.rv) };
  }

  /**
   * The stored objects themselves, without copies, for read-only filtering by the simulated controllers (a
   * copy per object per reconcile made 500 services quadratic). Callers must not modify what they get.
   */
  *scan(type: ResourceType, namespace?: string): Iterable<Readonly<KubeObject>> {
    for (const object of this.bucket(type).values()) {
      if (namespace === undefined || object.metadata.namespace === namespace) yield object;
    }
  }

  /** Counts without copying (controllers and the bench call this often). */
  count(type: ResourceType): number {
    return this.bucket(type).size;
  }

  create(type: ResourceType, object: KubeObject): KubeObject {
    const name = object.metadata.name ?? '';
    const key = objectKey(type.namespaced ? object.metadata.namespace : undefined, name);
    const bucket = this.bucket(type);
    if (bucket.has(key)) throw alreadyExists(type, name);
    const stored = clone(object);
    stored.metadata.uid = stored.metadata.uid ?? randomUUID();
    stored.metadata.creationTimestamp = stored.metadata.creationTimestamp ?? nowTimestamp();
    if (type.generation) stored.metadata.generation = 1;
    stored.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, stored);
    this.record({ type: 'ADDED', resource: type, object: stored, rv: this.rv });
    return clone(stored);
  }

  /**
   * Replaces the stored object. With `metadata.resourceVersion` set it must match (409 Conflict otherwise), as
   * for a PUT; `bumpGeneration` says whether the spec changed.
   */
  update(type: ResourceType, object: KubeObject, options: { bumpGeneration?: boolean } = {}): KubeObject {
    const name = object.metadata.name ?? '';
    const key = objectKey(type.namespaced ? object.metadata.namespace : undefined, name);
    const bucket = this.bucket(type);
    const current = bucket.get(key);
    if (!current) throw notFound(type, name);
    const expected = object.metadata.resourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) throw conflict(type, name);
    if (object.metadata.uid && object.metadata.uid !== current.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    const stored = clone(object);
    stored.metadata.uid = current.metadata.uid;
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (type.generation) stored.metadata.generation = (current.metadata.generation ?? 1) + (options.bumpGeneration ? 1 : 0);
    if (JSON.stringify(withoutRv(stored)) === JSON.stringify(withoutRv(current))) return clone(current);
    stored.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, stored);
    this.record({ type: 'MODIFIED', resource: type, object: stored, previous: current, rv: this.rv });
    return clone(stored);
  }

  remove(type: ResourceType, namespace: string | undefined, name: string, preconditions: { uid?: string; resourceVersion?: string } = {}): KubeObject {
    const key = objectKey(type.namespaced ? namespace : undefined, name);
    const bucket = this.bucket(type);
    const current = bucket.get(key);
    if (!current) throw notFound(type, name);
    if (preconditions.uid && preconditions.uid !== current.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    bucket.delete(key);
    const deleted = clone(current);
    deleted.metadata.resourceVersion = String(++this.rv);
    this.record({ type: 'DELETED', resource: type, object: deleted, previous: current, rv: this.rv });
    return clone(deleted);
  }

  private record(change: StoreChange): void {
    this.history.push(change);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestWatchable = dropped[dropped.length - 1].rv;
    }
    for (const watcher of this.watchers) {
      if (watcher.key === resourceKey(change.resource)) deliver(watcher, change);
    }
    for (const listener of this.listeners) listener(change);
  }

  /**
   * Starts a watch. Without a resourceVersion (or "0") it first sends the current objects as ADDED, as the real
   * server does; with one, every retained change after it. A version older than the retained history → 410.
   */
  watch(type: ResourceType, fromRv: string | undefined, filter: WatchFilter, sink: WatchSink): () => void {
    const watcher: Watcher = { key: resourceKey(type), filter, sink };
    if (!fromRv || fromRv === '0') {
      for (const object of this.list(type, filter.namespace).items) if (filter.matches(object)) sink.event('ADDED', object);
    } else {
      const from = Number(fromRv);
      if (!Number.isInteger(from) || from < 0) throw gone(fromRv, this.oldestWatchable);
      if (from < this.oldestWatchable) throw gone(fromRv, this.oldestWatchable);
      for (const change of this.history) {
        if (change.rv > from && resourceKey(change.resource) === watcher.key) deliver(watcher, change);
      }
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /**
   * Test hook: compacts all history, as etcd does after a long outage. Open watches end with a 410 (the real
   * watch cache does the same when it cannot serve a watcher), and any resourceVersion a client holds is too old
   * to watch from: clients must re-list.
   */
  expireHistory(): void {
    this.history = [];
    this.rv += 1;
    this.oldestWatchable = this.rv;
    for (const watcher of [...this.watchers]) {
      this.watchers.delete(watcher);
      watcher.sink.expired(this.oldestWatchable);
    }
  }

  /** Every object of every resource (for the namespace cleanup and the GC). */
  *all(): Iterable<{ key: string; object: KubeObject }> {
    for (const [key, bucket] of this.objects) for (const object of bucket.values()) yield { key, object };
  }

  closeWatches(): void {
    this.watchers.clear();
  }
}

function withoutRv(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: undefined } };
}

function deliver(watcher: Watcher, change: StoreChange): void {
  const { filter, sink } = watcher;
  const inNamespace = (o: KubeObject | undefined) => !!o && (filter.namespace === undefined || o.metadata.namespace === filter.namespace);
  const nowMatches = inNamespace(change.object) && filter.matches(change.object);
  if (change.type === 'MODIFIED') {
    const before = inNamespace(change.previous) && filter.matches(change.previous as KubeObject);
    // An object entering or leaving a selector is an ADDED or DELETED for that watch (as in the watch cache).
    if (before && nowMatches) sink.event('MODIFIED', clone(change.object));
    else if (nowMatches) sink.event('ADDED', clone(change.object));
    else if (before) sink.event('DELETED', clone(change.object));
    return;
  }
  if (nowMatches) sink.event(change.type, clone(change.object));
}
