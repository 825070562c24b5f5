import type { Condition, KubeObject, Pod } from './kube.types.js';

/** Helpers over pod status shared by the controllers (podutil in the real tree). */

export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return condition(pod.status?.conditions, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds (the controllers' "available"). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = condition(pod.status?.conditions, 'Ready')?.lastTransitionTime;
  return !!since && Date.parse(since) + minReadySeconds * 1000 <= now;
}

export function isPodActive(pod: Pod): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string } | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller);
}

/** Sets a condition, keeping lastTransitionTime when the status does not change; returns the new list. */
export function setCondition(conditions: Condition[] | undefined, next: Condition, now: string): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const merged: Condition = { ...next, lastTransitionTime: previous && previous.status === next.status ? previous.lastTransitionTime : now };
  if (index >= 0) list[index] = merged;
  else list.push(merged);
  return list;
}

/**
 * Deterministic JSON (sorted keys) for comparing templates regardless of the order a client sent fields in. A
 * null field counts as absent, as Go's semantic equality sees it (`creationTimestamp: null` in a template that
 * `kubectl rollout undo` copies back is the same template).
 */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
