import type { BatchingConfig, Preprocessing, ReasonParams } from '@remotegpu/core';

/**
 * The Runtime port: where replicas run (local child processes now, Kubernetes Deployments later). It is
 * declarative like a Kubernetes Deployment: `apply` states what should exist, the runtime converges on its
 * own (starts, restarts with backoff, rolls a new generation replica by replica), and `observe` reports what
 * exists. The provisioner turns observations into service status; it never manages single processes.
 */
export interface RuntimeServiceSpec {
  serviceId: string;
  workspaceId: number;
  /** The service's spec generation; a new generation is rolled out replica by replica. */
  generation: number;
  replicas: number;
  /** Per replica. */
  cpu: number;
  memory: number;
  gpu: number;
  model: {
    /** The model name replicas serve under OIP v2 (`/v2/models/{name}`): the service id. */
    name: string;
    /** The registry's model id: with `version`, the one artifact an artifact token opens. */
    modelId: number;
    version: string;
    artifact: ModelArtifact;
    labels: string[];
    preprocessing: Preprocessing | null;
    /** The version's dynamic batching (`RGPU_BATCHING`); absent: off. */
    batching?: BatchingConfig;
  };
}

/**
 * Where a replica gets its model (DESIGN §2.1): a URI and the sha256 it must have, never a path on the gateway's
 * disk, since a replica on another host cannot read it. `modelArtifactEnv()` turns it into the model server's
 * variables.
 */
export interface ModelArtifact {
  /**
   * `file:///…`: a file on the runtime's own host (the local runtime, when the provisioner shares the gateway's
   * data directory); read directly. `http(s)://…`: downloaded by the replica itself, verified and cached — the
   * version's original `artifact_uri`, or the gateway's artifact endpoint (then `access` is `artifact_token`).
   */
  uri: string;
  /** Lowercase hex. A replica refuses bytes with another digest (reason `artifact_checksum_mismatch`). */
  sha256: string;
  /** The registered size: a download is cut at the first byte past it. */
  sizeBytes: number;
  /**
   * `artifact_token`: the replica needs a short-lived token scoped to this artifact, minted by the runtime's
   * ArtifactTokenIssuer when the replica starts (it is not part of the spec: a spec must not change by itself,
   * or every reconcile would roll the replicas). `none`: the URI needs no credentials.
   */
  access: 'none' | 'artifact_token';
}

/** Mints the token that opens one artifact on the gateway's artifact endpoint (`@remotegpu/auth` implements it). */
export interface ArtifactTokenIssuer {
  issue(artifact: { modelId: number; version: string; sha256: string }): { token: string; expiresAt: number };
}

export type ReplicaPhase =
  /** Waiting for resources (e.g. GPUs) before it can start. */
  | 'pending'
  /** Process/pod started, not ready yet. */
  | 'starting'
  | 'ready'
  /** Crashed; will be restarted after a backoff. */
  | 'restarting'
  | 'terminating';

export interface ReplicaObservation {
  replicaId: string;
  generation: number;
  phase: ReplicaPhase;
  /** Base URL of its model server once ready (e.g. `http://127.0.0.1:41234`); null otherwise. */
  url: string | null;
  /** Requests it should be given at once, from its spec's batching (core `inFlightForBatching`); absent: no batching. */
  maxInFlight?: number;
  restarts: number;
  /** GPU indices assigned (CUDA_VISIBLE_DEVICES). */
  gpus: number[];
  /** Execution provider the replica reports (`cpu` / `cuda`), once known. */
  device: string | null;
  message: string | null;
}

/** Something that keeps the service from converging. */
export interface RuntimeCondition {
  /** `waiting`: may resolve by itself (status stays creating/updating); `failed`: needs a user change. */
  type: 'waiting' | 'failed';
  /** Stable machine-readable reason: `insufficient_gpu`, `gpu_request_exceeds_capacity`, `crash_loop`, `model_load_failed`, `image_pull_failed`… */
  reason: string;
  /** The reason's parameters, so that the API words it per request (core `describeStatusReason`). */
  params?: ReasonParams;
  /** English, for logs and for reasons core's catalog does not know. */
  message: string;
}

export interface RuntimeObservation {
  serviceId: string;
  /** The generation last applied, or null when the runtime holds nothing for the service. */
  generation: number | null;
  replicas: ReplicaObservation[];
  condition: RuntimeCondition | null;
}

export interface RuntimeCapacity {
  gpus: number;
  freeGpus: number;
}

/** One line a replica wrote (its model server's stdout or stderr), as `logs()` hands it out. */
export interface ReplicaLogLine {
  replica: string;
  /** When the runtime read it (ISO 8601); Kubernetes: the kubelet's timestamp. */
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface ReplicaLogQuery {
  /** Only this replica's lines. */
  replica?: string;
  /** At most this many of the newest lines (per the whole answer, after the other filters). */
  tail?: number;
  /** Only lines read at or after this instant. */
  since?: Date;
}

/** A live feed of new lines; `close()` ends it (idempotent). */
export interface ReplicaLogFollow {
  close(): void;
}

export interface Runtime {
  readonly kind: 'local' | 'kubernetes';
  /**
   * The recent lines of the service's replicas, oldest first (like `kubectl logs --tail --since-time`). Local: a
   * bounded buffer per replica, kept after the replica exits until the service is removed; Kubernetes: pod logs.
   */
  logs(serviceId: string, query: ReplicaLogQuery): Promise<ReplicaLogLine[]>;
  /** New lines as they are written (`kubectl logs -f`), until `close()`; `query.replica` filters, tail/since do not apply. */
  followLogs(serviceId: string, query: ReplicaLogQuery, onLine: (line: ReplicaLogLine) => void): Promise<ReplicaLogFollow>;
  start(): Promise<void>;
  /** Idempotent: converge the service towards this spec. */
  apply(spec: RuntimeServiceSpec): Promise<void>;
  /** Idempotent: terminate every replica of the service (graceful, then forced after a grace period). */
  remove(serviceId: string): Promise<void>;
  /**
   * Idempotent: a stopped service. Its replicas terminate as with `remove`, but what the runtime keeps of the
   * service may stay so that a later `apply` brings it back (Kubernetes: the Deployment scaled to 0, its Service
   * and history kept; local: nothing to keep, the same as `remove`). `observe` may then report the last applied
   * generation with no replicas.
   */
  pause(serviceId: string): Promise<void>;
  observe(serviceId: string): Promise<RuntimeObservation>;
  /** Service ids the runtime holds replicas for (the provisioner removes those the store no longer wants). */
  services(): Promise<string[]>;
  capacity(): Promise<RuntimeCapacity>;
  /** Called (without awaiting) whenever an observation of a service may have changed. Returns an unsubscribe. */
  onChange(listener: (serviceId: string) => void): () => void;
  /** Shutdown of the runtime itself. Local: terminates all replicas (no orphans); Kubernetes: leaves pods running. */
  stop(): Promise<void>;
}
