import type { KubeApi } from './kube-api.js';
import { randomSuffix } from './kube-defaults.js';
import type { EventRecorder } from './kube-events.js';
import { controllerOf, isPodActive, isPodAvailable, isPodReady } from './kube-pods.js';
import { resourceForKind } from './kube-resources.js';
import { fromLabelSelectorSpec, matchesLabels } from './kube-selectors.js';
import type { Pod, ReplicaSet, ReplicaSetStatus } from './kube.types.js';

/**
 * The ReplicaSet controller: keeps `spec.replicas` pods (named `<rs>-<5 chars>`, owned by the ReplicaSet) and
 * writes status.replicas / readyReplicas / availableReplicas / observedGeneration from what the pods report.
 * Scale-down removes the least useful pods first: unscheduled, then pending, then not ready, then the newest.
 */
export class ReplicaSetController {
  private readonly rsType = resourceForKind('ReplicaSet');
  private readonly podType = resourceForKind('Pod');

  constructor(
    private readonly api: KubeApi,
    private readonly events: EventRecorder,
    private readonly requeueAfter: (key: string, ms: number) => void,
  ) {}

  podsOf(rs: ReplicaSet): Pod[] {
    return this.api.store.list(this.podType, rs.metadata.namespace, (p) => controllerOf(p)?.uid === rs.metadata.uid).items as Pod[];
  }

  reconcile(key: string): void {
    const [namespace, name] = key.split('/');
    const rs = this.api.store.get(this.rsType, namespace, name) as ReplicaSet | undefined;
    if (!rs || rs.metadata.deletionTimestamp) return;
    const active = this.podsOf(rs).filter(isPodActive);
    const want = rs.spec.replicas ?? 1;
    if (active.length < want) {
      for (let i = active.length; i < want; i++) this.createPod(rs);
    } else if (active.length > want) {
      for (const pod of rankForDeletion(active).slice(0, active.length - want)) {
        try {
          this.api.delete(this.podType, namespace, pod.metadata.name ?? '');
          this.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
        } catch {
          // already gone
        }
      }
    }
    this.syncStatus(rs);
  }

  private createPod(rs: ReplicaSet): void {
    const template = rs.spec.template;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(template.metadata ?? {}),
        name: `${rs.metadata.name}-${randomSuffix()}`,
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name ?? '', uid: rs.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(template.spec),
    };
    const created = this.api.create(this.podType, rs.metadata.namespace, pod);
    this.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, 'replicaset-controller');
  }

  private syncStatus(rs: ReplicaSet): void {
    const current = this.api.store.get(this.rsType, rs.metadata.namespace, rs.metadata.name ?? '') as ReplicaSet | undefined;
    if (!current) return;
    const pods = this.podsOf(current).filter(isPodActive);
    const minReady = current.spec.minReadySeconds ?? 0;
    const selector = fromLabelSelectorSpec(current.spec.template.metadata?.labels ? { matchLabels: current.spec.template.metadata.labels } : undefined);
    const status: ReplicaSetStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesLabels(selector, p.metadata.labels)).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReady)).length,
      observedGeneration: current.metadata.generation,
    };
    // The real status omits zero counts (omitempty).
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (!status[k]) delete status[k];
    if (minReady && pods.some((p) => isPodReady(p) && !isPodAvailable(p, minReady))) this.requeueAfter(`${current.metadata.namespace}/${current.metadata.name}`, 200);
    if (JSON.stringify(status) !== JSON.stringify(current.status)) {
      this.api.store.update(this.rsType, { ...current, status, metadata: { ...current.metadata, resourceVersion: undefined } });
    }
  }
}

function rankForDeletion(pods: Pod[]): Pod[] {
  const rank = (p: Pod) => (!p.spec.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !isPodReady(p) ? 2 : 3);
  return [...pods].sort((a, b) => rank(a) - rank(b) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
}
