import type { KubeApi } from './kube-api.js';
import { safeEncode } from './kube-defaults.js';
import type { EventRecorder } from './kube-events.js';
import { condition, controllerOf, setCondition, stableJson } from './kube-pods.js';
import { resourceForKind } from './kube-resources.js';
import { nowTimestamp } from './kube-store.js';
import type { Condition, Deployment, DeploymentStatus, ReplicaSet } from './kube.types.js';

/**
 * The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template, named
 * `<deployment>-<pod-template-hash>`; rolling updates bounded by maxSurge / maxUnavailable (scale the new set up
 * to replicas + surge, scale old sets down while at least replicas - unavailable stay available), Recreate,
 * revisions, history cleanup, and the status kubectl rollout status reads: observedGeneration, replicas,
 * updated/ready/available/unavailable counts, Available and Progressing conditions, ProgressDeadlineExceeded.
 */

const REVISION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';

export interface DeploymentControllerOptions {
  /** Multiplies progressDeadlineSeconds so that tests see a stalled rollout fail in seconds (default 1). */
  progressDeadlineScale: number;
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function podTemplateHash(template: unknown, collisionCount = 0): string {
  return safeEncode(String(fnv32a(stableJson(template) + (collisionCount ? String(collisionCount) : ''))));
}

function withoutHash(template: ReplicaSet['spec']['template']): unknown {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[HASH_LABEL];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

function resolveIntOrPercent(value: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export class DeploymentController {
  private readonly dType = resourceForKind('Deployment');
  private readonly rsType = resourceForKind('ReplicaSet');
  private readonly lastProgress = new Map<string, number>();

  constructor(
    private readonly api: KubeApi,
    private readonly events: EventRecorder,
    private readonly requeueAfter: (key: string, ms: number) => void,
    private readonly options: DeploymentControllerOptions,
  ) {}

  replicaSetsOf(d: Deployment): ReplicaSet[] {
    return (this.api.store.list(this.rsType, d.metadata.namespace, (rs) => controllerOf(rs)?.uid === d.metadata.uid).items as ReplicaSet[])
      .sort((a, b) => revisionOf(a) - revisionOf(b));
  }

  reconcile(key: string): void {
    const [namespace, name] = key.split('/');
    const d = this.api.store.get(this.dType, namespace, name) as Deployment | undefined;
    if (!d || d.metadata.deletionTimestamp) return;
    const all = this.replicaSetsOf(d);
    let newRS = all.find((rs) => stableJson(withoutHash(rs.spec.template)) === stableJson(d.spec.template));
    const old = all.filter((rs) => rs !== newRS);
    let created = false;
    if (d.spec.paused) return this.syncStatus(d, newRS, old, false);
    if (!newRS) {
      newRS = this.createReplicaSet(d, all);
      created = true;
    } else if (String(revisionOf(newRS)) !== d.metadata.annotations?.[REVISION] || (old.length && revisionOf(newRS) <= Math.max(...old.map(revisionOf)))) {
      // A rollback to an older template: that set becomes the newest revision again.
      const revision = Math.max(0, ...old.map(revisionOf)) + (revisionOf(newRS) > Math.max(0, ...old.map(revisionOf)) ? 0 : 1);
      newRS = this.writeRS({ ...newRS, metadata: { ...newRS.metadata, annotations: { ...newRS.metadata.annotations, [REVISION]: String(Math.max(revision, revisionOf(newRS))) } } });
      this.annotateRevision(d, revisionOf(newRS));
    }
    const replicas = d.spec.replicas ?? 1;
    if (d.spec.strategy?.type === 'Recreate') {
      this.recreate(d, newRS, old, replicas);
    } else {
      const { maxSurge, maxUnavailable } = this.bounds(d);
      const target = this.newReplicas(newRS, all.concat(created ? [newRS] : []), replicas, maxSurge);
      if (target !== (newRS.spec.replicas ?? 0)) {
        newRS = this.scale(d, newRS, target);
      } else {
        this.scaleDownOld(d, newRS, old, replicas, maxUnavailable);
      }
    }
    this.cleanup(d, old);
    this.syncStatus(d, newRS, this.replicaSetsOf(d).filter((rs) => rs.metadata.uid !== newRS?.metadata.uid), created);
  }

  private bounds(d: Deployment): { maxSurge: number; maxUnavailable: number } {
    const replicas = d.spec.replicas ?? 1;
    const rolling = d.spec.strategy?.rollingUpdate;
    const maxSurge = resolveIntOrPercent(rolling?.maxSurge, replicas, true, '25%');
    let maxUnavailable = resolveIntOrPercent(rolling?.maxUnavailable, replicas, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
  }

  private newReplicas(newRS: ReplicaSet, all: ReplicaSet[], replicas: number, maxSurge: number): number {
    const current = newRS.spec.replicas ?? 0;
    if (current > replicas) return replicas;
    const total = uniq(all).reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    const maxTotal = replicas + maxSurge;
    if (total >= maxTotal) return current;
    return current + Math.max(0, Math.min(maxTotal - total, replicas - current));
  }

  private scaleDownOld(d: Deployment, newRS: ReplicaSet, old: ReplicaSet[], replicas: number, maxUnavailable: number): void {
    const oldCount = old.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    if (!oldCount) return;
    const all = [newRS, ...old];
    const allCount = all.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable = (newRS.spec.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allCount - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // First the old sets' unavailable pods: they cost no availability.
    let cleaned = 0;
    const oldest = [...old].sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of oldest) {
      const spec = rs.spec.replicas ?? 0;
      const available = rs.status?.availableReplicas ?? 0;
      if (!spec || spec === available || cleaned >= maxScaledDown) continue;
      const down = Math.min(maxScaledDown - cleaned, spec - available);
      this.scale(d, rs, spec - down);
      rs.spec.replicas = spec - down;
      cleaned += down;
    }
    const availableNow = all.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    if (availableNow <= minAvailable) return;
    const toScaleDown = Math.min(availableNow - minAvailable, maxScaledDown - cleaned);
    let scaled = 0;
    for (const rs of oldest) {
      const spec = rs.spec.replicas ?? 0;
      if (scaled >= toScaleDown) break;
      if (!spec) continue;
      const down = Math.min(spec, toScaleDown - scaled);
      this.scale(d, rs, spec - down);
      scaled += down;
    }
  }

  private recreate(d: Deployment, newRS: ReplicaSet, old: ReplicaSet[], replicas: number): void {
    const activeOld = old.filter((rs) => (rs.spec.replicas ?? 0) > 0);
    for (const rs of activeOld) this.scale(d, rs, 0);
    const oldPodsLeft = old.some((rs) => (rs.status?.replicas ?? 0) > 0);
    if (!activeOld.length && !oldPodsLeft && (newRS.spec.replicas ?? 0) !== replicas) this.scale(d, newRS, replicas);
  }

  private createReplicaSet(d: Deployment, existing: ReplicaSet[]): ReplicaSet {
    const collisionCount = d.status?.collisionCount ?? 0;
    const hash = podTemplateHash(d.spec.template, collisionCount);
    const template = structuredClone(d.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const revision = Math.max(0, ...existing.map(revisionOf)) + 1;
    const replicas = d.spec.strategy?.type === 'Recreate' ? 0 : this.newReplicas({ spec: { replicas: 0 } } as ReplicaSet, existing, d.spec.replicas ?? 1, this.bounds(d).maxSurge);
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...(d.spec.template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1),
          'deployment.kubernetes.io/max-replicas': String((d.spec.replicas ?? 1) + this.bounds(d).maxSurge),
          [REVISION]: String(revision),
        },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [HASH_LABEL]: hash } },
        template,
      },
    };
    const created = this.api.create(this.rsType, d.metadata.namespace, rs) as ReplicaSet;
    if (replicas > 0) this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`, 'deployment-controller');
    this.annotateRevision(d, revision);
    return created;
  }

  private annotateRevision(d: Deployment, revision: number): void {
    const current = this.api.store.get(this.dType, d.metadata.namespace, d.metadata.name ?? '') as Deployment | undefined;
    if (!current || current.metadata.annotations?.[REVISION] === String(revision)) return;
    this.api.store.update(this.dType, { ...current, metadata: { ...current.metadata, resourceVersion: undefined, annotations: { ...current.metadata.annotations, [REVISION]: String(revision) } } });
  }

  private scale(d: Deployment, rs: ReplicaSet, replicas: number): ReplicaSet {
    const from = rs.spec.replicas ?? 0;
    const current = this.api.store.get(this.rsType, rs.metadata.namespace, rs.metadata.name ?? '') as ReplicaSet;
    const annotations = { ...current.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1) };
    const updated = this.writeRS({ ...current, metadata: { ...current.metadata, annotations }, spec: { ...current.spec, replicas } });
    if (from !== replicas) {
      this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`, 'deployment-controller');
    }
    return updated;
  }

  private writeRS(rs: ReplicaSet): ReplicaSet {
    const current = this.api.store.get(this.rsType, rs.metadata.namespace, rs.metadata.name ?? '');
    const specChanged = JSON.stringify(current?.spec) !== JSON.stringify(rs.spec);
    return this.api.store.update(this.rsType, { ...rs, metadata: { ...rs.metadata, resourceVersion: undefined } }, { bumpGeneration: specChanged }) as ReplicaSet;
  }

  private cleanup(d: Deployment, old: ReplicaSet[]): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = old.filter((rs) => !(rs.spec.replicas ?? 0) && !(rs.status?.replicas ?? 0)).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        this.api.delete(this.rsType, rs.metadata.namespace, rs.metadata.name ?? '');
      } catch {
        // already gone
      }
    }
  }

  private syncStatus(d: Deployment, newRS: ReplicaSet | undefined, old: ReplicaSet[], created: boolean): void {
    const current = this.api.store.get(this.dType, d.metadata.namespace, d.metadata.name ?? '') as Deployment | undefined;
    if (!current) return;
    const sets = newRS ? [this.api.store.get(this.rsType, newRS.metadata.namespace, newRS.metadata.name ?? '') as ReplicaSet, ...old].filter(Boolean) : old;
    const fresh = newRS ? (sets[0] as ReplicaSet) : undefined;
    const replicas = current.spec.replicas ?? 1;
    const sum = (f: (rs: ReplicaSet) => number | undefined) => sets.reduce((n, rs) => n + (f(rs) ?? 0), 0);
    const previous = current.status ?? {};
    const status: DeploymentStatus = {
      observedGeneration: current.metadata.generation,
      replicas: sum((rs) => rs.status?.replicas),
      updatedReplicas: fresh?.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas),
      availableReplicas: sum((rs) => rs.status?.availableReplicas),
      unavailableReplicas: Math.max(0, sum((rs) => rs.spec.replicas) - sum((rs) => rs.status?.availableReplicas)),
    };
    if (previous.collisionCount) status.collisionCount = previous.collisionCount;
    const now = nowTimestamp();
    const { maxUnavailable } = this.bounds(current);
    const available = (status.availableReplicas ?? 0) >= replicas - maxUnavailable;
    let conditions = setCondition(previous.conditions, available
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: now }, now);
    conditions = keepUpdateTime(previous.conditions, conditions, 'Available');
    conditions = this.progressing(current, fresh, previous, status, conditions, created, now);
    status.conditions = conditions;
    for (const k of ['readyReplicas', 'availableReplicas', 'unavailableReplicas', 'updatedReplicas', 'replicas'] as const) if (!status[k]) delete status[k];
    if (stableJson(status) !== stableJson(previous)) {
      this.api.store.update(this.dType, { ...current, status, metadata: { ...current.metadata, resourceVersion: undefined } });
    }
  }

  /** syncRolloutStatus's Progressing rules; the deadline is timed from the last progress in ms (conditions hold seconds). */
  private progressing(d: Deployment, newRS: ReplicaSet | undefined, previous: DeploymentStatus, status: DeploymentStatus, conditions: Condition[], created: boolean, now: string): Condition[] {
    const key = `${d.metadata.namespace}/${d.metadata.name}`;
    if (d.spec.paused) {
      return setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: now }, now);
    }
    const deadline = d.spec.progressDeadlineSeconds;
    if (deadline === undefined || !newRS) return conditions;
    const name = newRS.metadata.name;
    const replicas = d.spec.replicas ?? 1;
    let prior = condition(conditions, 'Progressing');
    if (created || !prior || prior.reason === 'DeploymentPaused') {
      const reason = created ? 'NewReplicaSetCreated' : 'FoundNewReplicaSet';
      const message = created ? `Created new replica set "${name}"` : `Found new replica set "${name}"`;
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason, message, lastUpdateTime: now }, now);
      prior = condition(conditions, 'Progressing');
      this.lastProgress.set(key, Date.now());
    }
    if (status.replicas === status.updatedReplicas && prior?.reason === 'NewReplicaSetAvailable') return conditions;
    const complete = status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas && status.observedGeneration === d.metadata.generation;
    const oldPods = (s: DeploymentStatus) => (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
    const progressed = (status.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) || (status.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (previous.availableReplicas ?? 0) || oldPods(previous) > oldPods(status);
    const deadlineMs = deadline * 1000 * this.options.progressDeadlineScale;
    if (complete) {
      this.lastProgress.delete(key);
      return setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}" has successfully progressed.`, lastUpdateTime: now }, now);
    }
    if (progressed) {
      this.lastProgress.set(key, Date.now());
      this.requeueAfter(key, deadlineMs + 10);
      return setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.`, lastUpdateTime: now }, now);
    }
    if (prior?.reason === 'ProgressDeadlineExceeded') return conditions;
    const since = this.lastProgress.get(key) ?? Date.parse(prior?.lastUpdateTime ?? now);
    if (Date.now() >= since + deadlineMs) {
      this.events.record(d, 'Warning', 'ProgressDeadlineExceeded', `ReplicaSet "${name}" has timed out progressing.`, 'deployment-controller');
      return setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.`, lastUpdateTime: now }, now);
    }
    this.requeueAfter(key, since + deadlineMs - Date.now() + 10);
    return conditions;
  }
}

/** Available's lastUpdateTime moves only when the condition changes (no status write per sync). */
function keepUpdateTime(previous: Condition[] | undefined, next: Condition[], type: string): Condition[] {
  const before = condition(previous, type);
  return next.map((c) => (c.type === type && before && before.status === c.status && before.reason === c.reason ? { ...c, lastUpdateTime: before.lastUpdateTime } : c));
}

function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function uniq<T extends { metadata: { uid?: string } }>(list: T[]): T[] {
  const seen = new Set<string | undefined>();
  return list.filter((x) => (seen.has(x.metadata.uid) ? false : (seen.add(x.metadata.uid), true)));
}
