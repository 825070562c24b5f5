import type { EventRecorder } from './kube-events.js';
import { condition, isPodActive } from './kube-pods.js';
import { quantityFor } from './kube-quantity.js';
import { resourceForKind } from './kube-resources.js';
import { nowTimestamp, type KubeStore } from './kube-store.js';
import type { Node, Pod, Taint, Toleration } from './kube.types.js';

/**
 * The default scheduler's filters that matter for GPU inference: unschedulable nodes, node selectors, taints and
 * tolerations, and NodeResourcesFit on cpu, memory, nvidia.com/gpu (any extended resource) and pod count. A pod
 * that fits nowhere stays Pending with PodScheduled=False/Unschedulable and a FailedScheduling event worded as
 * kube-scheduler 1.32 words it (FitError + DefaultPreemption's post-filter message); it is retried whenever pods
 * or nodes change, so it starts when capacity frees up.
 */

const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
const NO_VICTIMS = 'No preemption victims found for incoming pod';

export function podRequests(pod: Pod): Map<string, number> {
  const total = new Map<string, number>();
  for (const c of pod.spec.containers ?? []) {
    const requests = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [name, value] of Object.entries(requests)) total.set(name, (total.get(name) ?? 0) + quantityFor(name, value));
  }
  return total;
}

function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

interface NodeVerdict {
  reasons: string[];
  /** UnschedulableAndUnresolvable: evicting pods would not help (DefaultPreemption says so). */
  unresolvable: boolean;
}

export class Scheduler {
  private readonly podType = resourceForKind('Pod');
  private readonly nodeType = resourceForKind('Node');

  constructor(
    private readonly store: KubeStore,
    private readonly events: EventRecorder,
  ) {}

  /** One scheduling pass over every unbound pod, oldest first (the queue's order for equal priority). */
  schedulePending(): void {
    const pods = ([...this.store.scan(this.podType)] as Pod[])
      .filter((p) => !p.spec.nodeName && isPodActive(p) && (p.spec.schedulerName ?? 'default-scheduler') === 'default-scheduler')
      .map((p) => structuredClone(p))
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    if (!pods.length) return;
    const nodes = [...this.store.scan(this.nodeType)] as Node[];
    const used = this.usage();
    for (const pod of pods) this.scheduleOne(pod, nodes, used);
  }

  private usage(): Map<string, Map<string, number>> {
    const used = new Map<string, Map<string, number>>();
    for (const pod of this.store.scan(this.podType) as Iterable<Pod>) {
      if (!pod.spec.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const node = used.get(pod.spec.nodeName) ?? new Map<string, number>();
      for (const [name, value] of podRequests(pod)) node.set(name, (node.get(name) ?? 0) + value);
      node.set('pods', (node.get('pods') ?? 0) + 1);
      used.set(pod.spec.nodeName, node);
    }
    return used;
  }

  private verdict(pod: Pod, node: Node, used: Map<string, number>): NodeVerdict {
    if (node.spec.unschedulable) return { reasons: ['node(s) were unschedulable'], unresolvable: true };
    for (const taint of node.spec.taints ?? []) {
      if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(pod.spec.tolerations, taint)) {
        return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], unresolvable: true };
      }
    }
    const labels = node.metadata.labels ?? {};
    if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) {
      return { reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true };
    }
    const allocatable = node.status?.allocatable ?? {};
    const reasons: string[] = [];
    if ((used.get('pods') ?? 0) + 1 > quantityFor('pods', allocatable.pods ?? 110)) reasons.push('Too many pods');
    for (const [name, value] of podRequests(pod)) {
      if (!value) continue;
      if ((used.get(name) ?? 0) + value > quantityFor(name, allocatable[name] ?? 0)) reasons.push(`Insufficient ${name}`);
    }
    return { reasons, unresolvable: false };
  }

  private scheduleOne(pod: Pod, nodes: Node[], used: Map<string, Map<string, number>>): void {
    const verdicts = new Map<string, NodeVerdict>();
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      const verdict = this.verdict(pod, node, used.get(name) ?? new Map());
      if (!verdict.reasons.length) return this.bind(pod, node, used);
      verdicts.set(name, verdict);
    }
    this.markUnschedulable(pod, nodes.length ? fitError(pod, nodes.length, [...verdicts.values()]) : 'no nodes available to schedule pods');
  }

  private bind(pod: Pod, node: Node, used: Map<string, Map<string, number>>): void {
    const name = node.metadata.name ?? '';
    const usage = used.get(name) ?? new Map<string, number>();
    for (const [r, value] of podRequests(pod)) usage.set(r, (usage.get(r) ?? 0) + value);
    usage.set('pods', (usage.get('pods') ?? 0) + 1);
    used.set(name, usage);
    const now = nowTimestamp();
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
    this.store.update(this.podType, { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, spec: { ...pod.spec, nodeName: name }, status: { ...pod.status, phase: 'Pending', conditions } });
    this.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${name}`, 'default-scheduler');
  }

  private markUnschedulable(pod: Pod, message: string): void {
    const previous = condition(pod.status?.conditions, 'PodScheduled');
    if (previous?.status === 'False' && previous.message === message) return;
    const now = nowTimestamp();
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'Unschedulable', message });
    this.store.update(this.podType, { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, status: { ...pod.status, phase: 'Pending', conditions } });
    this.events.record(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
  }
}

function histogram(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

/**
 * FitError.Error() of kube-scheduler: `0/N nodes are available: <histogram>.` then the post-filter message
 * of DefaultPreemption, itself ending with a period, followed by the separator's period (hence the `..`).
 */
export function fitError(pod: Pod, nodeCount: number, verdicts: NodeVerdict[]): string {
  let message = `0/${nodeCount} nodes are available: ${histogram(verdicts.flatMap((v) => v.reasons))}.`;
  const preemption = (pod.spec as { preemptionPolicy?: string }).preemptionPolicy === 'Never'
    ? 'preemption: not eligible due to preemptionPolicy=Never.'
    : `preemption: 0/${nodeCount} nodes are available: ${histogram(verdicts.map((v) => (v.unresolvable ? NOT_HELPFUL : NO_VICTIMS)))}.`;
  message += ` ${preemption}.`;
  return message;
}
