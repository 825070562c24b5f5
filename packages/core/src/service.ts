import type { ReasonParams } from './status-reasons.js';

/** The inference service aggregate: the desired spec a user wrote plus the status the provisioner observed. */

export const SERVICE_STATUSES = ['creating', 'running', 'updating', 'stopping', 'stopped', 'failed'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** What the user asked for: keep replicas running, or keep none. The provisioner converges towards it. */
export type DesiredState = 'running' | 'stopped';

export const FRAMEWORKS = ['pytorch', 'tensorflow', 'onnx', 'paddle', 'sklearn', 'xgboost'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** Resources of one replica, plus the replica count. Memory is bytes (exceeds 32 bits). */
export interface ServiceSpec {
  modelId: number;
  modelVersion: string;
  framework: Framework;
  cpu: number;
  memory: number;
  gpu: number;
  replicas: number;
}

export interface InferenceService extends ServiceSpec {
  id: string;
  workspaceId: number;
  name: string;
  description: string;
  desiredState: DesiredState;
  status: ServiceStatus;
  /** Stable machine-readable code (`insufficient_gpu`…); worded per request from it and `statusParams`. */
  statusReason: string | null;
  /** The parameters of `statusReason` (see status-reasons.ts); absent on records written before they existed. */
  statusParams?: ReasonParams | null;
  /** The English wording, stored for logs and as the fallback for a reason without a catalog entry. */
  statusMessage: string | null;
  readyReplicas: number;
  /** Data-plane addresses of the ready replicas, written by the provisioner; the router routes to these. */
  endpoints: ReplicaEndpoint[];
  /**
   * Every replica the runtime reported at the last reconcile that changed it (any phase, any generation), sorted
   * by id and capped at MAX_REPLICA_STATES; written by the provisioner. Absent on records written before it existed.
   */
  replicaStates?: ReplicaState[];
  /** Bumped when what a replica runs changes (version, resources): the runtime rolls replicas to it. Scaling keeps it. */
  generation: number;
  /** The generation the current status describes (0 until the provisioner first looked). */
  observedGeneration: number;
  /** Optimistic-concurrency version of the record: every write must name the version it read. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Set by delete: the service is hidden at once and its replicas are released in the background. */
  deletedAt: string | null;
}

/** One ready replica as the data plane reaches it. */
export interface ReplicaEndpoint {
  replicaId: string;
  /** Base URL of the replica's model server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /**
   * How many requests the replica should be given at once (batching.ts `inFlightForBatching`); the router's own
   * per-replica cap stays the floor. Absent: the replica does not batch, the router's cap alone applies.
   */
  maxInFlight?: number;
}

/** A copy of an endpoint with exactly its known fields; no `maxInFlight` (absent, or a store's null) stays absent. */
export function copyEndpoint(e: ReplicaEndpoint): ReplicaEndpoint {
  return typeof e.maxInFlight !== 'number' ? { replicaId: e.replicaId, url: e.url } : { replicaId: e.replicaId, url: e.url, maxInFlight: e.maxInFlight };
}

/** A replica's phase as the runtime reports it (runtime port `ReplicaPhase`). */
export type ReplicaStateName = 'pending' | 'starting' | 'ready' | 'restarting' | 'terminating';

/** One replica as a user sees it on the service detail: not its address (that is the router's business). */
export interface ReplicaState {
  replicaId: string;
  generation: number;
  state: ReplicaStateName;
  restarts: number;
  /** Execution provider (`cpu` / `cuda`) once the replica reported it. */
  device: string | null;
  message: string | null;
}

/** A record keeps at most this many replica states, so a runaway rollout cannot grow it without bound. */
export const MAX_REPLICA_STATES = 64;

/** One line of a service's lifecycle history (`GET /services/{id}/events`). */
export interface ServiceEvent {
  serviceId: string;
  type: ServiceEventType;
  status: ServiceStatus;
  reason: string | null;
  /** Parameters of `reason` (or of the line's type, e.g. `fields` of `updated`), for wording it per request. */
  params?: ReasonParams | null;
  message: string | null;
  at: string;
}

export const SERVICE_EVENT_TYPES = [
  'created',
  'updated',
  'stop_requested',
  'start_requested',
  'delete_requested',
  'status_changed',
] as const;
export type ServiceEventType = (typeof SERVICE_EVENT_TYPES)[number];

export function endpointUrl(publicUrl: string, serviceId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/inference/${serviceId}`;
}
