/**
 * Queue admission with deadlines, as pure decisions (the dispatcher does the I/O). A request that finds every
 * replica slot of its service busy may wait, but only as long as `budgetMs`: when the queue ahead of it would take
 * longer to drain, it is refused at once with 429 + Retry-After, instead of being served late (a client under a
 * flood would otherwise wait until its timeout and learn nothing). A request that is admitted and still waits
 * when its budget runs out is refused then; the estimate makes refusals fast, the deadline makes them certain.
 */

export interface QueueState {
  /** Live requests already waiting for a slot. */
  queued: number;
  /** Replica slots in rotation: replicas not ejected × the in-flight cap per replica. */
  slots: number;
  /** Moving average of one request's time on a replica (ms), at the load the replica had; 0 before any answer. */
  serviceTimeMs: number;
}

export interface QueuePolicy {
  /** Waiting requests per service beyond which the answer is 429 whatever the estimate says. */
  maxQueue: number;
  /** The longest a request may wait for a slot (ms). */
  budgetMs: number;
}

export type QueueRefusal = 'queue_full' | 'queue_budget' | 'queue_timeout';

export type Admission = { admit: true } | { admit: false; reason: QueueRefusal; retryAfterSeconds: number };

/** Weight of the newest observation in the service-time average: about the last ten answers count. */
export const SERVICE_TIME_ALPHA = 0.1;

/** A Retry-After longer than this says "much later" no better, and a client might give up on the service. */
export const MAX_RETRY_AFTER_SECONDS = 30;

/**
 * Expected wait of the request at 1-based queue `position` before a slot frees for it. Under saturation the
 * slots finish requests at `slots / serviceTime` per ms (Little's law: the average was observed at that same
 * load, so contention on the replica is already in it); the request needs `position` of those completions.
 */
export function expectedWaitMs(state: QueueState, position = state.queued + 1): number {
  if (state.slots <= 0 || state.serviceTimeMs <= 0) return 0;
  return (position * state.serviceTimeMs) / state.slots;
}

/** When a newcomer would fit in the budget again if no one else arrived meanwhile; at least 1 s. */
export function retryAfterSecondsOf(state: QueueState, policy: QueuePolicy): number {
  const excessMs = expectedWaitMs(state) - policy.budgetMs;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(excessMs / 1000)));
}

/** The decision for a request that finds every slot busy. Before the first answer there is no estimate: admit. */
export function admissionOf(state: QueueState, policy: QueuePolicy): Admission {
  if (state.queued >= policy.maxQueue) {
    return { admit: false, reason: 'queue_full', retryAfterSeconds: retryAfterSecondsOf(state, policy) };
  }
  if (expectedWaitMs(state) > policy.budgetMs) {
    return { admit: false, reason: 'queue_budget', retryAfterSeconds: retryAfterSecondsOf(state, policy) };
  }
  return { admit: true };
}

/** The next service-time average after one more answer took `observedMs`. */
export function nextServiceTimeMs(averageMs: number, observedMs: number): number {
  if (!(observedMs >= 0)) return averageMs;
  return averageMs <= 0 ? observedMs : averageMs + SERVICE_TIME_ALPHA * (observedMs - averageMs);
}
