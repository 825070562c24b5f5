import type { V1ContainerStatus, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { englishStatusMessage, inFlightForBatching, parseBatching, type ReasonParams } from '@remotegpu/core';
import { BATCHING_ENV } from '../model-server.tuning.js';
import type { ReplicaObservation, ReplicaPhase, RuntimeCondition, RuntimeObservation } from '../runtime.port.js';
import { ANNOTATIONS, CONTAINER_NAME, CONTAINER_PORT, GPU_RESOURCE, LABELS } from './kubernetes.names.js';

/**
 * From what the informers hold (the service's Deployment and pods) to the port's observation. Pure: the status
 * rules of DESIGN §6 are tables a unit test reads. Precedence of the service's condition, most specific first:
 * an image that cannot be pulled, a replica crash-looping (both need a user's change) → `failed`; pods waiting for
 * GPUs (or other capacity) → `waiting`, which also outranks an exceeded progress deadline, since a rollout that
 * waits for a GPU to free up is not broken; then the progress deadline → `failed`.
 */

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

export interface MappingOptions {
  /** CrashLoopBackOff with at least this many restarts → `failed` (one crash of a serving replica is not a failure). */
  crashLoopRestarts: number;
}

export function observationOf(
  serviceId: string,
  deployment: V1Deployment | undefined,
  pods: readonly V1Pod[],
  options: MappingOptions,
): RuntimeObservation {
  // Without its Deployment (deleted, or being deleted) a pod is on its way out: the garbage collector takes its
  // ReplicaSet and then it, even while it still reports Ready.
  const owned = deployment && !deployment.metadata?.deletionTimestamp ? deployment : undefined;
  const replicas = [...pods].sort(byCreation).map((pod) => {
    const replica = replicaOf(pod, deployment);
    return owned ? replica : { ...replica, phase: 'terminating' as const, url: null };
  });
  // The port's generation is null only once nothing is left: pods still terminating keep the last one.
  const generation = deployment ? generationOf(deployment) : replicas.length ? Math.max(...replicas.map((r) => r.generation)) : null;
  if (generation === null && replicas.length === 0) return { serviceId, generation: null, replicas: [], condition: null };
  const live = pods.filter((p) => phaseOf(p) !== 'terminating');
  return { serviceId, generation, replicas, condition: owned ? conditionOf(owned, live, options) : null };
}

export function generationOf(deployment: V1Deployment): number | null {
  const value = Number(deployment.metadata?.annotations?.[ANNOTATIONS.generation]);
  return Number.isInteger(value) ? value : null;
}

/**
 * A pod of the Deployment's current template is at the Deployment's generation (a scale keeps the template, so
 * surviving pods move to the new generation with it); a pod of an older template reports the generation that
 * introduced its template.
 */
export function podGeneration(pod: V1Pod, deployment: V1Deployment | undefined): number {
  const current = deployment?.spec?.template?.metadata?.labels?.[LABELS.templateHash];
  if (deployment && current !== undefined && pod.metadata?.labels?.[LABELS.templateHash] === current) {
    return generationOf(deployment) ?? 0;
  }
  const own = Number(pod.metadata?.annotations?.[ANNOTATIONS.templateGeneration]);
  return Number.isInteger(own) ? own : 0;
}

export function phaseOf(pod: V1Pod): ReplicaPhase {
  if (pod.metadata?.deletionTimestamp) return 'terminating';
  const podPhase = pod.status?.phase;
  // Ended for good (evicted, or a restartPolicy other than Always): its ReplicaSet makes a new one.
  if (podPhase === 'Succeeded' || podPhase === 'Failed') return 'terminating';
  const container = containerOf(pod);
  if (container?.state?.waiting?.reason === 'CrashLoopBackOff') return 'restarting';
  if (conditionStatus(pod, 'PodScheduled') === 'False') return 'pending';
  if (conditionStatus(pod, 'Ready') === 'True' && pod.status?.podIP) return 'ready';
  return 'starting';
}

export function replicaOf(pod: V1Pod, deployment: V1Deployment | undefined): ReplicaObservation {
  const phase = phaseOf(pod);
  const ip = pod.status?.podIP;
  return {
    replicaId: pod.metadata?.name ?? '',
    generation: podGeneration(pod, deployment),
    phase,
    // The pod's own address, not the Service's: the router balances and ejects per replica (README).
    url: phase === 'ready' && ip ? `http://${ip.includes(':') ? `[${ip}]` : ip}:${CONTAINER_PORT}` : null,
    ...podInFlight(pod),
    restarts: containerOf(pod)?.restartCount ?? 0,
    // The device plugin picks the GPUs inside the node; their indices are not visible in the API.
    gpus: [],
    device: null,
    message: podMessage(pod),
  };
}

/**
 * The pod's own in-flight cap, from the batching its model server was started with (its RGPU_BATCHING variable):
 * a pod of an older template keeps the batching of that template, so it is read from the pod, not the Deployment.
 */
export function podInFlight(pod: V1Pod): { maxInFlight?: number } {
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => c.name === CONTAINER_NAME) ?? containers[0];
  const wire = container?.env?.find((e) => e.name === BATCHING_ENV)?.value;
  if (!wire) return {};
  let parsed: ReturnType<typeof parseBatching>;
  try {
    parsed = parseBatching(JSON.parse(wire));
  } catch {
    return {};
  }
  const maxInFlight = parsed.ok ? inFlightForBatching(parsed.value) : null;
  return maxInFlight === null ? {} : { maxInFlight };
}

/** What a user should read about one pod: why it waits, why it is not scheduled, or why its last run ended. */
export function podMessage(pod: V1Pod): string | null {
  const container = containerOf(pod);
  const waiting = container?.state?.waiting;
  const terminated = container?.lastState?.terminated ?? container?.state?.terminated;
  if (waiting?.reason === 'CrashLoopBackOff' && terminated) return terminationText(terminated);
  if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
    return waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason;
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return scheduled.message ?? scheduled.reason ?? 'not scheduled';
  if (terminated && phaseOf(pod) !== 'ready') return terminationText(terminated);
  return null;
}

function terminationText(terminated: { exitCode?: number; reason?: string; message?: string }): string {
  const failure = failedLine(terminated.message);
  if (failure) return failure.reason;
  const how = `${terminated.reason ?? 'Terminated'} (exit code ${terminated.exitCode ?? '?'})`;
  const text = terminated.message?.trim();
  return text ? `${how}: ${lastLine(text)}` : how;
}

export function conditionOf(deployment: V1Deployment, pods: readonly V1Pod[], options: MappingOptions): RuntimeCondition | null {
  const current = pods.filter((p) => podGeneration(p, deployment) === generationOf(deployment));
  // Image: any pod (of any template) whose image cannot be pulled; a wrong image name is the user's to fix.
  const pulling = pods.find((p) => IMAGE_PULL_REASONS.has(containerOf(p)?.state?.waiting?.reason ?? ''));
  if (pulling) {
    const image = pulling.spec?.containers?.[0]?.image ?? '';
    return { type: 'failed', reason: 'image_pull_failed', params: { image }, message: podMessage(pulling) ?? `cannot pull image ${image}` };
  }
  const looping = pods.find(
    (p) => containerOf(p)?.state?.waiting?.reason === 'CrashLoopBackOff' && (containerOf(p)?.restartCount ?? 0) >= options.crashLoopRestarts,
  );
  if (looping) return crashLoopCondition(looping);

  const unschedulable = current.filter((p) => phaseOf(p) === 'pending');
  if (unschedulable.length > 0) return waitingForCapacity(unschedulable);

  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  const observed = deployment.status?.observedGeneration === undefined || deployment.status.observedGeneration === deployment.metadata?.generation;
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded' && observed) {
    const stuck = current.find((p) => phaseOf(p) !== 'ready');
    const why = (stuck && podMessage(stuck)) ?? progressing.message ?? 'the rollout made no progress';
    return { type: 'failed', reason: 'progress_deadline_exceeded', message: `no progress within the deadline: ${why}` };
  }
  return null;
}

function crashLoopCondition(pod: V1Pod): RuntimeCondition {
  const container = containerOf(pod)!;
  const terminated = container.lastState?.terminated;
  const failures = container.restartCount ?? 0;
  const lastFailure = terminated ? terminationText(terminated) : 'CrashLoopBackOff';
  const failure = failedLine(terminated?.message);
  // The model server said why on its termination message (e.g. artifact_checksum_mismatch): report that reason.
  const reason = failure?.code ?? (failure ? 'model_load_failed' : 'crash_loop');
  const params: ReasonParams = { ...failure?.params, failures, lastFailure };
  return {
    type: 'failed',
    reason,
    params,
    message: englishStatusMessage(reason, params) ?? `replica failed to become ready ${failures} times in a row; last: ${lastFailure}`,
  };
}

function waitingForCapacity(pending: readonly V1Pod[]): RuntimeCondition {
  const message = podMessage(pending[0]) ?? 'waiting to be scheduled';
  const gpus = Number(pending[0].spec?.containers?.[0]?.resources?.limits?.[GPU_RESOURCE] ?? 0);
  if (message.includes(`Insufficient ${GPU_RESOURCE}`)) {
    // No params: the catalog's wording speaks of one machine's GPUs; the scheduler's own sentence says it for a cluster.
    return { type: 'waiting', reason: 'insufficient_gpu', message: `${pending.length} replica(s) waiting for ${gpus} free GPU(s) each: ${message}` };
  }
  return { type: 'waiting', reason: 'unschedulable', message: `${pending.length} replica(s) waiting to be scheduled: ${message}` };
}

/** The model server's `failed` line, when the termination message is one (it writes it to terminationMessagePath). */
export function failedLine(text: string | undefined): { reason: string; code?: string; params: ReasonParams } | null {
  const line = text?.trim();
  if (!line?.startsWith('{')) return null;
  try {
    const value = JSON.parse(lastLine(line)) as { event?: unknown; reason?: unknown; code?: unknown; params?: unknown };
    if (value.event !== 'failed' || typeof value.reason !== 'string') return null;
    const params: Record<string, string | number> = {};
    if (value.params && typeof value.params === 'object' && !Array.isArray(value.params)) {
      for (const [k, v] of Object.entries(value.params)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
    }
    const code = typeof value.code === 'string' && REASON_CODE.test(value.code) ? value.code : undefined;
    return { reason: value.reason, ...(code ? { code } : {}), params };
  } catch {
    return null;
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  const last = lines[lines.length - 1] ?? '';
  return last.length > 500 ? `${last.slice(0, 499)}…` : last;
}

function containerOf(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((c) => c.name === CONTAINER_NAME) ?? statuses[0];
}

function conditionStatus(pod: V1Pod, type: string): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)?.status;
}

function byCreation(a: V1Pod, b: V1Pod): number {
  const ta = timeOf(a.metadata?.creationTimestamp);
  const tb = timeOf(b.metadata?.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function timeOf(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}
