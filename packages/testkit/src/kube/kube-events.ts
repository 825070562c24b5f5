import { randomBytes } from 'node:crypto';
import { resourceForKind } from './kube-resources.js';
import { nowTimestamp, type KubeStore } from './kube-store.js';
import type { CoreEvent, KubeObject } from './kube.types.js';

/**
 * core/v1 Events as the control plane's components record them: one object per (object, reason, message), its
 * count and lastTimestamp bumped when it happens again (client-go's event correlator), named `<object>.<hex>`.
 */
export class EventRecorder {
  private readonly type = resourceForKind('Event');
  /** (object uid, reason, message) → the event's name, so a repeat finds its event without a scan. */
  private readonly seen = new Map<string, { namespace: string; name: string }>();

  constructor(private readonly store: KubeStore) {}

  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string, host?: string): void {
    const namespace = object.metadata.namespace ?? 'default';
    const uid = object.metadata.uid;
    const key = `${uid}\u0000${reason}\u0000${message}`;
    const known = this.seen.get(key);
    const existing = known ? (this.store.get(this.type, known.namespace, known.name) as CoreEvent | undefined) : undefined;
    const now = nowTimestamp();
    if (existing) {
      this.store.update(this.type, { ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: now, metadata: { ...existing.metadata, resourceVersion: undefined } });
      return;
    }
    const event: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${object.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name ?? '', uid, apiVersion: object.apiVersion, resourceVersion: object.metadata.resourceVersion },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: host ? { component, host } : { component },
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    try {
      this.store.create(this.type, event);
      this.seen.set(key, { namespace, name: event.metadata.name ?? '' });
      if (this.seen.size > 50_000) this.seen.delete(this.seen.keys().next().value as string);
    } catch {
      // The namespace is going away; its events go with it.
    }
  }
}
