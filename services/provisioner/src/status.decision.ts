import {
  copyEndpoint,
  englishStatusMessage,
  nextStatus,
  type InferenceService,
  type ModelVersion,
  type ReasonParams,
  MAX_REPLICA_STATES,
  type ReplicaEndpoint,
  type ReplicaState,
  type ServiceStatus,
} from '@remotegpu/core';
import type { ReplicaObservation, RuntimeCondition, RuntimeObservation, RuntimeServiceSpec } from '@remotegpu/runtime';
import { artifactOf, FILE_DELIVERY, type ArtifactDelivery } from './artifact.delivery.js';

/**
 * The pure half of a reconcile: from the stored record and the runtime's observation to the status the record
 * should show. No I/O here, so every decision is a table a test can read. Status changes go only through the
 * lifecycle state machine (`nextStatus`), never by assignment.
 */
export interface StatusView {
  status: ServiceStatus;
  statusReason: string | null;
  /** The reason's parameters: the API words the reason per request from them (core status-reasons.ts). */
  statusParams: ReasonParams | null;
  /** English, stored for logs and readers without the catalog. */
  statusMessage: string | null;
  readyReplicas: number;
  endpoints: ReplicaEndpoint[];
  /** Every replica the runtime reports, for the service detail (`replicaStatesOf`). */
  replicaStates: ReplicaState[];
  observedGeneration: number;
}

export const REASONS = {
  modelVersionMissing: 'model_version_missing',
  replicasUnavailable: 'replicas_unavailable',
  /** Written when the bus gave up an intent after its last delivery (core status-reasons.ts). */
  reconcileFailing: 'reconcile_failing',
} as const;

type ReasonFields = Pick<StatusView, 'statusReason' | 'statusParams' | 'statusMessage'>;

const NO_REASON: ReasonFields = { statusReason: null, statusParams: null, statusMessage: null };

/** A reason of the provisioner's own: code and params, and the English words stored beside them. */
function reason(code: string, params: ReasonParams): ReasonFields {
  return { statusReason: code, statusParams: params, statusMessage: englishStatusMessage(code, params) };
}

/** A runtime's condition as the record shows it (its params when the runtime gave them, else only its text). */
function reasonOf(condition: RuntimeCondition): ReasonFields {
  return { statusReason: condition.reason, statusParams: condition.params ?? null, statusMessage: condition.message };
}

function keptReason(service: InferenceService): ReasonFields {
  return { statusReason: service.statusReason, statusParams: service.statusParams ?? null, statusMessage: service.statusMessage };
}

function sameParams(a: ReasonParams | null, b: ReasonParams | null): boolean {
  if (a === null || b === null) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function runtimeSpec(service: InferenceService, version: ModelVersion, delivery: ArtifactDelivery = FILE_DELIVERY): RuntimeServiceSpec {
  return {
    serviceId: service.id,
    workspaceId: service.workspaceId,
    generation: service.generation,
    replicas: service.replicas,
    cpu: service.cpu,
    memory: service.memory,
    gpu: service.gpu,
    model: {
      // Replicas serve under the service id, so a model's name can change without touching running replicas.
      name: service.id,
      modelId: version.modelId,
      version: version.version,
      artifact: artifactOf(version, delivery),
      labels: version.labels,
      preprocessing: version.preprocessing,
      ...(version.batching ? { batching: version.batching } : {}),
    },
  };
}

/** Whether the runtime still holds anything for the service (a spec, or replicas in any phase). */
export function holdsAnything(observation: RuntimeObservation): boolean {
  return observation.generation !== null || observation.replicas.length > 0;
}

/**
 * Every ready replica of any generation: during a rollout the old ready replicas keep serving until the
 * runtime retires them. Sorted so that the same set always compares (and is stored) the same.
 */
export function readyEndpoints(replicas: readonly ReplicaObservation[]): ReplicaEndpoint[] {
  return replicas
    .filter((r): r is ReplicaObservation & { url: string } => r.phase === 'ready' && r.url !== null)
    // The replica's own in-flight cap (its batching) travels with its address to the router.
    .map((r) => copyEndpoint(r))
    .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
}

/** A replica's message as stored: long runtime messages (pod events) are cut so the record stays small. */
const MAX_REPLICA_MESSAGE = 500;

/**
 * Every replica the runtime reports, in any phase, as the service detail shows it: sorted by id so that an
 * unchanged set compares (and is stored) the same, and capped so that a record stays bounded.
 */
export function replicaStatesOf(replicas: readonly ReplicaObservation[]): ReplicaState[] {
  return replicas
    .map((r) => ({
      replicaId: r.replicaId,
      generation: r.generation,
      state: r.phase,
      restarts: r.restarts,
      device: r.device,
      message: r.message === null ? null : r.message.slice(0, MAX_REPLICA_MESSAGE),
    }))
    .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0))
    .slice(0, MAX_REPLICA_STATES);
}

export function sameReplicaStates(a: readonly ReplicaState[], b: readonly ReplicaState[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (r, i) =>
        r.replicaId === b[i].replicaId &&
        r.generation === b[i].generation &&
        r.state === b[i].state &&
        r.restarts === b[i].restarts &&
        r.device === b[i].device &&
        r.message === b[i].message,
    )
  );
}

/**
 * Where a service that should run stands before looking at replicas: a stopped one is being started, and a
 * spec the provisioner has not acted on yet is a rollout (the gateway normally wrote both already; this
 * repairs a record whose status was written by an older or crashed writer).
 */
function runningBaseline(service: InferenceService): ServiceStatus {
  let status = service.status;
  if (status === 'stopping' || status === 'stopped') status = nextStatus(status, { type: 'start' });
  if (service.generation > service.observedGeneration) status = nextStatus(status, { type: 'respec' });
  return status;
}

export function decideRunning(service: InferenceService, observation: RuntimeObservation): StatusView {
  const baseline = runningBaseline(service);
  const current = observation.replicas.filter((r) => r.generation === service.generation);
  const readyCurrent = current.filter((r) => r.phase === 'ready').length;
  const endpoints = readyEndpoints(observation.replicas);
  const observed = {
    // Replicas serving traffic, of any generation (as a Deployment's readyReplicas): a rollout never shows 0/N
    // while old replicas still answer. Capped at the desired count during the surge.
    readyReplicas: Math.min(endpoints.length, service.replicas),
    endpoints,
    replicaStates: replicaStatesOf(observation.replicas),
    observedGeneration: service.generation,
  };
  const condition = observation.condition;

  // A failed service takes no traffic (the gateway answers 409), so it lists no endpoints for the router.
  if (condition?.type === 'failed') {
    const status = nextStatus(baseline, { type: 'fail' });
    return { ...observed, endpoints: [], status, ...reasonOf(condition) };
  }
  // A failure needs a user's start or spec change (the gateway then moves it to creating); replicas that
  // recover on their own do not clear it, so a flapping model cannot look healthy for a moment.
  if (baseline === 'failed') {
    return { ...observed, endpoints: [], status: baseline, ...keptReason(service) };
  }
  const converged =
    readyCurrent === service.replicas && current.length === service.replicas && observation.replicas.length === service.replicas;
  if (converged) {
    return { ...observed, status: nextStatus(baseline, { type: 'replicasReady' }), ...NO_REASON };
  }
  // Not all there (yet): creating and updating keep going; a running service that lost a replica stays
  // running (a crash is not a spec change) and says so in its reason.
  const status = nextStatus(baseline, { type: 'replicasLost' });
  if (condition) return { ...observed, status, ...reasonOf(condition) };
  if (baseline === 'running') {
    return {
      ...observed,
      status,
      ...reason(REASONS.replicasUnavailable, { ready: readyCurrent, desired: service.replicas }),
    };
  }
  return { ...observed, status, ...NO_REASON };
}

export function decideModelVersionMissing(service: InferenceService, observation: RuntimeObservation): StatusView {
  const current = observation.replicas.filter((r) => r.generation === service.generation);
  return {
    status: nextStatus(runningBaseline(service), { type: 'fail' }),
    ...reason(REASONS.modelVersionMissing, { modelId: service.modelId, version: service.modelVersion }),
    readyReplicas: current.filter((r) => r.phase === 'ready').length,
    endpoints: [],
    replicaStates: replicaStatesOf(observation.replicas),
    observedGeneration: service.generation,
  };
}

/**
 * A service that should not run. Traffic stops the moment it is stopping (no endpoints), while
 * `readyReplicas` keeps counting the replicas that are still up until the runtime has terminated them.
 */
export function decideStopped(service: InferenceService, observation: RuntimeObservation): StatusView {
  const stopping = nextStatus(service.status, { type: 'stop' });
  if (observation.replicas.length > 0) {
    return {
      status: stopping,
      // Keep what the gateway wrote (`stop_requested`): the runtime has nothing to add while it terminates.
      ...keptReason(service),
      readyReplicas: observation.replicas.filter((r) => r.phase === 'ready').length,
      endpoints: [],
      replicaStates: replicaStatesOf(observation.replicas),
      observedGeneration: service.generation,
    };
  }
  return {
    status: nextStatus(stopping, { type: 'replicasStopped' }),
    ...NO_REASON,
    readyReplicas: 0,
    endpoints: [],
    replicaStates: [],
    observedGeneration: service.generation,
  };
}

export function sameEndpoints(a: readonly ReplicaEndpoint[], b: readonly ReplicaEndpoint[]): boolean {
  return a.length === b.length && a.every((e, i) => e.replicaId === b[i].replicaId && e.url === b[i].url && e.maxInFlight === b[i].maxInFlight);
}

/** The fields of `view` that differ from the record; null when the record already shows it. */
export function statusPatch(service: InferenceService, view: StatusView): Partial<StatusView> | null {
  const patch: Partial<StatusView> = {};
  if (view.status !== service.status) patch.status = view.status;
  if (view.statusReason !== service.statusReason) patch.statusReason = view.statusReason;
  if (view.statusMessage !== service.statusMessage) patch.statusMessage = view.statusMessage;
  if (!sameParams(view.statusParams, service.statusParams ?? null)) patch.statusParams = view.statusParams;
  if (view.readyReplicas !== service.readyReplicas) patch.readyReplicas = view.readyReplicas;
  if (!sameEndpoints(view.endpoints, service.endpoints)) patch.endpoints = view.endpoints;
  if (!sameReplicaStates(view.replicaStates, service.replicaStates ?? [])) patch.replicaStates = view.replicaStates;
  if (view.observedGeneration !== service.observedGeneration) patch.observedGeneration = view.observedGeneration;
  return Object.keys(patch).length ? patch : null;
}
