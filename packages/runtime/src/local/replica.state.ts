import { randomBytes } from 'node:crypto';
import { inFlightForBatching } from '@remotegpu/core';
import type { ReplicaObservation, ReplicaPhase, RuntimeServiceSpec } from '../runtime.port.js';
import type { ReplicaFailureCause, ReplicaProcess } from './replica.process.js';

/** What the local runtime knows about one replica; it survives restarts of its process (like a pod). */
export interface Replica {
  id: string;
  seq: number;
  /** The spec it was created from; relabelled to newer generations that keep its template. */
  spec: RuntimeServiceSpec;
  template: string;
  phase: ReplicaPhase;
  process: ReplicaProcess | null;
  url: string | null;
  device: string | null;
  message: string | null;
  restarts: number;
  gpus: number[];
  /** When it started waiting for GPUs (scheduling order). */
  pendingSince: number;
  /** It waits for the GPUs of an old replica retired for it (rollout handover); scheduled first. */
  handover: boolean;
  /** Failed starts (exit or readiness timeout without ever answering ready) since it was last ready. */
  failedStarts: number;
  /** Whether any of those failed starts got as far as the listening line. */
  listenedInFailedStarts: boolean;
  lastFailure: string | null;
  /** The status reason the replica gave for that failure on its `failed` line (`artifact_checksum_mismatch`…). */
  lastFailureCause: ReplicaFailureCause | null;
  backoffStep: number;
  readySince: number | null;
  restartTimer: NodeJS.Timeout | null;
}

export function newReplica(serviceId: string, seq: number, spec: RuntimeServiceSpec, template: string): Replica {
  return {
    id: `${serviceId}-${randomBytes(3).toString('hex')}`,
    seq,
    spec,
    template,
    phase: 'pending',
    process: null,
    url: null,
    device: null,
    message: null,
    restarts: 0,
    gpus: [],
    pendingSince: Date.now(),
    handover: false,
    failedStarts: 0,
    listenedInFailedStarts: false,
    lastFailure: null,
    lastFailureCause: null,
    backoffStep: 0,
    readySince: null,
    restartTimer: null,
  };
}

export function toObservation(r: Replica): ReplicaObservation {
  // The batching of the spec the replica was started from (a relabel keeps the template, so the same batching).
  const maxInFlight = inFlightForBatching(r.spec.model.batching);
  return {
    replicaId: r.id,
    generation: r.spec.generation,
    phase: r.phase,
    url: r.url,
    ...(maxInFlight !== null ? { maxInFlight } : {}),
    restarts: r.restarts,
    gpus: [...r.gpus],
    device: r.device,
    message: r.message,
  };
}
