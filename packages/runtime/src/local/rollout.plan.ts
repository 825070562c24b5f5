import type { ReplicaPhase } from '../runtime.port.js';

/** What the planner needs to know about one replica of a service. */
export interface PlanReplica {
  id: string;
  /** Creation order; higher is newer. */
  seq: number;
  /** Whether the replica runs the desired template (anything but replicas/generation unchanged). */
  current: boolean;
  phase: ReplicaPhase;
  /** GPUs it holds. */
  gpus: number;
}

export interface PlanInput {
  desired: number;
  replicas: readonly PlanReplica[];
  /** False when a replica of the desired template can never run here (e.g. more GPUs than the machine has). */
  canCreate: boolean;
  gpuPerReplica: number;
  freeGpus: number;
}

export interface RolloutPlan {
  /** New replicas of the desired template to create. */
  create: number;
  /** Replicas to terminate, in order. */
  terminate: string[];
  /**
   * Set when a surge replica cannot get GPUs and one old replica is retired first so that its GPUs go to
   * the waiting new one (see `planRollout`).
   */
  handover: { from: string } | null;
}

const VICTIM_RANK: Record<ReplicaPhase, number> = { pending: 0, restarting: 1, starting: 2, ready: 3, terminating: 4 };

/** Scale-down order, as a ReplicaSet picks: not-ready before ready, and the newest first. */
export function byVictimOrder(a: PlanReplica, b: PlanReplica): number {
  return VICTIM_RANK[a.phase] - VICTIM_RANK[b.phase] || b.seq - a.seq;
}

/**
 * One step of a Deployment-style convergence with maxSurge 1 and maxUnavailable 0:
 * - without a template change only the count moves: missing replicas are created, extra ones removed
 *   (not-ready and newest first); surviving replicas are never touched;
 * - with a template change, at most one replica more than desired exists; an old replica is retired only
 *   when that keeps at least `desired` replicas ready (old replicas that are not ready anyway go first).
 *
 * One exception, written down because it trades the zero-unavailability rule for progress: when the surge
 * replica cannot get GPUs (a machine whose GPUs this service already fills, typically one GPU and one
 * replica), waiting would never end, so one old replica whose GPUs suffice is retired first and its GPUs go
 * to the new one (a Kubernetes Deployment would stay stuck; `maxUnavailable: 1` is the usual advice there).
 *
 * Pure: the caller applies the plan and runs it again until it asks for nothing.
 */
export function planRollout(input: PlanInput): RolloutPlan {
  const { desired } = input;
  const live = input.replicas.filter((r) => r.phase !== 'terminating');
  const current = live.filter((r) => r.current);
  const old = live.filter((r) => !r.current);

  let create = 0;
  if (input.canCreate) {
    const missing = desired - current.length;
    const surgeRoom = old.length > 0 ? desired + 1 - live.length : missing;
    create = Math.max(0, Math.min(missing, surgeRoom));
  }

  const terminate: string[] = [];
  const extraCurrent = [...current].sort(byVictimOrder).slice(0, Math.max(0, current.length - desired));
  terminate.push(...extraCurrent.map((r) => r.id));

  let liveCount = live.length + create - extraCurrent.length;
  let ready = live.filter((r) => r.phase === 'ready' && !extraCurrent.includes(r)).length;
  for (const replica of [...old].sort(byVictimOrder)) {
    if (liveCount <= desired) break;
    if (replica.phase === 'ready') {
      if (ready - 1 < desired) break;
      ready -= 1;
    }
    terminate.push(replica.id);
    liveCount -= 1;
  }

  const handover = create === 0 && terminate.length === 0 ? planHandover(input, live, old) : null;
  if (handover) terminate.push(handover.from);
  return { create, terminate, handover };
}

function planHandover(input: PlanInput, live: PlanReplica[], old: PlanReplica[]): { from: string } | null {
  // Enough free GPUs already: the scheduler starts the waiting replica without anyone's help.
  if (old.length === 0 || input.gpuPerReplica === 0 || input.freeGpus >= input.gpuPerReplica) return null;
  const waiting = live.some((r) => r.current && r.phase === 'pending');
  const alreadyHandingOver = input.replicas.some((r) => r.phase === 'terminating' && !r.current && r.gpus > 0);
  if (!waiting || alreadyHandingOver) return null;
  const donor = [...old].sort(byVictimOrder).find((r) => r.gpus > 0 && input.freeGpus + r.gpus >= input.gpuPerReplica);
  return donor ? { from: donor.id } : null;
}
