import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { serviceIdOf } from './kubernetes.names.js';

export interface ResourceCacheOptions<T extends KubernetesObject> {
  resource: string;
  kubeConfig: KubeConfig;
  /** The watch path (`/apis/apps/v1/namespaces/ns/deployments`). */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector: string;
  logger: Logger;
  /** An object of this service was added, changed or deleted (`name` is empty after a re-list). */
  changed: (serviceId: string, name: string, event: CacheEvent) => void;
  /** Restart delay after a watch or list error: doubles from `minMs` to `maxMs`. */
  backoff?: { minMs: number; maxMs: number };
}

type Listed<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export type CacheEvent = 'add' | 'update' | 'delete';

/**
 * One resource kind as client-node's informer sees it (list, then watch from the list's resourceVersion; a 410
 * Gone on the watch → a fresh list), indexed by the service-id label so that `observe` of one service never
 * scans the namespace. Adds what the informer leaves to its user: it stops on any other error (API server
 * down, 5xx, timeouts of the list), so it is restarted here with backoff; `relist()` replaces it with a fresh
 * list, the safety net for a watch that silently missed an event.
 */
export class ResourceCache<T extends KubernetesObject> {
  private informer: Listed<T> | null = null;
  private index = new Map<string, Map<string, T>>();
  private restartTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private stopped = false;
  private synced = false;
  /** Lists and watches (re)started: what the benchmark reports as the informers' own API calls. */
  listCalls = 0;

  constructor(private readonly opts: ResourceCacheOptions<T>) {
    this.delayMs = this.backoff.minMs;
  }

  private get backoff(): { minMs: number; maxMs: number } {
    return this.opts.backoff ?? { minMs: 500, maxMs: 30_000 };
  }

  /** Resolves once the first list is in the cache and the watch is open. */
  async start(): Promise<void> {
    this.stopped = false;
    const informer = this.createInformer(this.index);
    this.informer = informer;
    await startOrThrow(informer);
    this.synced = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const informer = this.informer;
    this.informer = null;
    await informer?.stop();
  }

  isSynced(): boolean {
    return this.synced;
  }

  get(serviceId: string, name: string): T | undefined {
    return this.index.get(serviceId)?.get(name);
  }

  forService(serviceId: string): T[] {
    return [...(this.index.get(serviceId)?.values() ?? [])];
  }

  serviceIds(): string[] {
    return [...this.index.keys()];
  }

  size(): number {
    let n = 0;
    for (const objects of this.index.values()) n += objects.size;
    return n;
  }

  /**
   * A fresh list into a new index, then the difference is announced (objects that vanished or changed while the
   * old watch was blind) and the new informer takes over. The old one keeps serving until then.
   */
  async relist(): Promise<void> {
    if (this.stopped || !this.informer) return;
    const fresh = new Map<string, Map<string, T>>();
    const next = this.createInformer(fresh);
    await startOrThrow(next);
    const old = this.index;
    const previous = this.informer;
    this.index = fresh;
    this.informer = next;
    await previous?.stop();
    for (const serviceId of new Set([...old.keys(), ...fresh.keys()])) {
      if (!sameObjects(old.get(serviceId), fresh.get(serviceId))) this.opts.changed(serviceId, '', 'update');
    }
  }

  private createInformer(index: Map<string, Map<string, T>>): Listed<T> {
    const { kubeConfig, path, list, labelSelector } = this.opts;
    const informer = makeInformer<T>(
      kubeConfig,
      path,
      () => {
        this.listCalls++;
        return list();
      },
      labelSelector,
    );
    const put = (event: CacheEvent) => (obj: T) => {
      const serviceId = serviceIdOf(obj);
      const name = obj.metadata?.name;
      if (!serviceId || !name) return;
      let objects = index.get(serviceId);
      if (!objects) index.set(serviceId, (objects = new Map()));
      objects.set(name, obj);
      if (index === this.index) this.opts.changed(serviceId, name, event);
    };
    const remove = (obj: T) => {
      const serviceId = serviceIdOf(obj);
      const name = obj.metadata?.name;
      if (!serviceId || !name) return;
      const objects = index.get(serviceId);
      objects?.delete(name);
      if (objects?.size === 0) index.delete(serviceId);
      if (index === this.index) this.opts.changed(serviceId, name, 'delete');
    };
    informer.on('add', put('add'));
    informer.on('update', put('update'));
    informer.on('delete', remove);
    informer.on('connect', () => {
      this.delayMs = this.backoff.minMs;
    });
    informer.on('error', (err: unknown) => {
      // Before it first synced, startOrThrow reports the failure to whoever started it.
      if (this.stopped || informer !== this.informer || !this.synced) return;
      this.opts.logger.warn({ err: describe(err), resource: this.opts.resource, retryInMs: this.delayMs }, 'informer stopped; restarting');
      this.scheduleRestart(informer);
    });
    return informer;
  }

  private scheduleRestart(informer: Listed<T>): void {
    if (this.restartTimer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped || informer !== this.informer) return;
      // start() watches from the last resourceVersion; the API server answers 410 if that is too old → a re-list.
      informer.start().catch((err: unknown) => {
        this.opts.logger.warn({ err: describe(err), resource: this.opts.resource }, 'informer restart failed');
        this.scheduleRestart(informer);
      });
    }, delay);
    this.restartTimer.unref();
  }
}

/**
 * The informer's start() resolves even when its list failed (it reports that on 'error' and stops): turn that into
 * a rejection, so a runtime that cannot reach the API server says so at start instead of observing nothing.
 */
async function startOrThrow<T extends KubernetesObject>(informer: Listed<T>): Promise<void> {
  let failure: unknown = null;
  const onError = (err: unknown) => {
    failure ??= err ?? new Error('informer stopped');
  };
  informer.on('error', onError);
  try {
    await informer.start();
  } catch (err) {
    failure ??= err;
  } finally {
    informer.off('error', onError);
  }
  if (failure !== null) {
    await informer.stop();
    throw failure;
  }
}

function sameObjects<T extends KubernetesObject>(a: Map<string, T> | undefined, b: Map<string, T> | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.size !== b.size) return false;
  for (const [name, obj] of a) {
    if (b.get(name)?.metadata?.resourceVersion !== obj.metadata?.resourceVersion) return false;
  }
  return true;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
