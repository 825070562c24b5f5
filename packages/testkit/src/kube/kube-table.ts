import { labelSelectorString } from './kube-selectors.js';
import { apiVersionOf, type ResourceType } from './kube-resources.js';
import type { CoreEvent, Deployment, KubeObject, LabelSelectorSpec, Node, Pod, ReplicaSet } from './kube.types.js';

/**
 * Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what `kubectl get` shows
 * without -o. Columns and cells follow k8s.io/kubernetes/pkg/printers/internalversion for the served kinds, so a
 * person debugging against the fake sees a pod's STATUS as `ImagePullBackOff` or `CrashLoopBackOff` as on a cluster.
 */

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority?: number;
}

type Cell = string | number;

/** duration.HumanDuration of k8s.io/apimachinery: 45s, 3m12s, 14m, 5h3m, 2d4h, 300d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 ? `${minutes}m${seconds % 60}s` : `${minutes}m`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 ? `${Math.floor(hours / 24)}d${hours % 24}h` : `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (hours < 24 * 365 * 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

function age(timestamp: string | undefined): string {
  return timestamp ? humanDuration(Date.now() - Date.parse(timestamp)) : '<unknown>';
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name' };
const AGE: Column = { name: 'Age', type: 'string' };

function podStatus(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = pod.status?.reason || pod.status?.phase || 'Pending';
  let running = false;
  for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    if (c.state.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state.terminated) reason = c.state.terminated.reason || (c.state.terminated.exitCode ? `ExitCode:${c.state.terminated.exitCode}` : 'Completed');
    else if (c.ready && c.state.running) running = true;
  }
  if (reason === 'Completed' && running) reason = 'Running';
  return reason;
}

function containersOf(template: { spec: { containers: { name: string; image: string }[] } }): [string, string] {
  return [template.spec.containers.map((c) => c.name).join(','), template.spec.containers.map((c) => c.image).join(',')];
}

function rowsFor(kind: string): { columns: Column[]; cells: (o: KubeObject) => Cell[] } {
  switch (kind) {
    case 'Pod':
      return {
        columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Status', type: 'string' }, { name: 'Restarts', type: 'string' }, AGE, { name: 'IP', type: 'string', priority: 1 }, { name: 'Node', type: 'string', priority: 1 }, { name: 'Nominated Node', type: 'string', priority: 1 }, { name: 'Readiness Gates', type: 'string', priority: 1 }],
        cells: (o) => {
          const pod = o as Pod;
          const statuses = pod.status?.containerStatuses ?? [];
          const restarts = statuses.reduce((n, c) => n + c.restartCount, 0);
          const lastRestart = statuses.map((c) => c.lastState.terminated?.finishedAt).filter((t): t is string => !!t).sort().pop();
          return [
            pod.metadata.name ?? '',
            `${statuses.filter((c) => c.ready).length}/${pod.spec.containers.length}`,
            podStatus(pod),
            lastRestart ? `${restarts} (${age(lastRestart)} ago)` : restarts,
            age(pod.metadata.creationTimestamp),
            pod.status?.podIP || '<none>',
            pod.spec.nodeName || '<none>',
            '<none>',
            '<none>',
          ];
        },
      };
    case 'Deployment':
      return {
        columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Up-to-date', type: 'integer' }, { name: 'Available', type: 'integer' }, AGE, { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
        cells: (o) => {
          const d = o as Deployment;
          return [d.metadata.name ?? '', `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 0}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, age(d.metadata.creationTimestamp), ...containersOf(d.spec.template), labelSelectorString(d.spec.selector)];
        },
      };
    case 'ReplicaSet':
      return {
        columns: [NAME, { name: 'Desired', type: 'integer' }, { name: 'Current', type: 'integer' }, { name: 'Ready', type: 'integer' }, AGE, { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
        cells: (o) => {
          const rs = o as ReplicaSet;
          return [rs.metadata.name ?? '', rs.spec.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs.metadata.creationTimestamp), ...containersOf(rs.spec.template), labelSelectorString(rs.spec.selector)];
        },
      };
    case 'Node':
      return {
        columns: [NAME, { name: 'Status', type: 'string' }, { name: 'Roles', type: 'string' }, AGE, { name: 'Version', type: 'string' }, { name: 'Internal-IP', type: 'string', priority: 1 }, { name: 'External-IP', type: 'string', priority: 1 }, { name: 'OS-Image', type: 'string', priority: 1 }, { name: 'Kernel-Version', type: 'string', priority: 1 }, { name: 'Container-Runtime', type: 'string', priority: 1 }],
        cells: (o) => {
          const n = o as Node;
          const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady';
          const info = (n.status?.nodeInfo ?? {}) as Record<string, string>;
          return [n.metadata.name ?? '', n.spec.unschedulable ? `${ready},SchedulingDisabled` : ready, '<none>', age(n.metadata.creationTimestamp), info.kubeletVersion ?? '', n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '<none>', '<none>', info.osImage ?? '', info.kernelVersion ?? '', info.containerRuntimeVersion ?? ''];
        },
      };
    case 'Service':
      return {
        columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Cluster-IP', type: 'string' }, { name: 'External-IP', type: 'string' }, { name: 'Port(s)', type: 'string' }, AGE, { name: 'Selector', type: 'string', priority: 1 }],
        cells: (o) => {
          const spec = (o.spec ?? {}) as { type?: string; clusterIP?: string; ports?: { port: number; protocol?: string; nodePort?: number }[]; selector?: Record<string, string> };
          const ports = (spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
          return [o.metadata.name ?? '', spec.type ?? 'ClusterIP', spec.clusterIP ?? '<none>', '<none>', ports, age(o.metadata.creationTimestamp), labelSelectorString({ matchLabels: spec.selector } as LabelSelectorSpec) || '<none>'];
        },
      };
    case 'Namespace':
      return { columns: [NAME, { name: 'Status', type: 'string' }, AGE], cells: (o) => [o.metadata.name ?? '', String((o.status as { phase?: string } | undefined)?.phase ?? ''), age(o.metadata.creationTimestamp)] };
    case 'ConfigMap':
      return { columns: [NAME, { name: 'Data', type: 'integer' }, AGE], cells: (o) => [o.metadata.name ?? '', Object.keys((o.data as object | undefined) ?? {}).length + Object.keys((o.binaryData as object | undefined) ?? {}).length, age(o.metadata.creationTimestamp)] };
    case 'Secret':
      return { columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Data', type: 'integer' }, AGE], cells: (o) => [o.metadata.name ?? '', String(o.type ?? 'Opaque'), Object.keys((o.data as object | undefined) ?? {}).length, age(o.metadata.creationTimestamp)] };
    case 'Event':
      return {
        columns: [{ name: 'Last Seen', type: 'string' }, { name: 'Type', type: 'string' }, { name: 'Reason', type: 'string' }, { name: 'Object', type: 'string' }, { name: 'Message', type: 'string' }],
        cells: (o) => {
          const e = o as CoreEvent;
          return [age(e.lastTimestamp ?? e.metadata.creationTimestamp), e.type, e.reason, `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`, e.message];
        },
      };
    default:
      return { columns: [NAME, AGE], cells: (o) => [o.metadata.name ?? '', age(o.metadata.creationTimestamp)] };
  }
}

/** Does the Accept header ask for a meta.k8s.io Table (kubectl's human output)? */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => /;\s*as=Table/.test(part) && /;\s*g=meta\.k8s\.io/.test(part));
}

/** A Table of `objects`; rows carry the object as PartialObjectMetadata unless includeObject says otherwise. */
export function toTable(type: ResourceType, objects: KubeObject[], resourceVersion: string, includeObject: string | null, continueToken?: string): object {
  const { columns, cells } = rowsFor(type.kind);
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: cells(o) };
    if (includeObject === 'Object') row.object = { ...o, kind: type.kind, apiVersion: apiVersionOf(type) };
    else if (includeObject !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  const metadata: Record<string, string> = { resourceVersion };
  if (continueToken) metadata.continue = continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows,
  };
}
