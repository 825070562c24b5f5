import { englishStatusMessage } from '@remotegpu/core';
import type { RuntimeCondition, RuntimeServiceSpec } from '../runtime.port.js';
import type { GpuAllocator } from './gpu.allocator.js';
import type { Replica } from './replica.state.js';

export interface ConditionInput {
  spec: RuntimeServiceSpec;
  /** The desired template: only replicas of it tell whether the spec converges. */
  template: string;
  replicas: readonly Replica[];
  allocator: Pick<GpuAllocator, 'free' | 'total'>;
  crashLoopLimit: number;
}

/**
 * What keeps the desired spec from converging, most serious first. Replicas of an older template do not
 * count: they are on their way out (and keep serving meanwhile).
 */
export function conditionOf({ spec, template, replicas, allocator, crashLoopLimit }: ConditionInput): RuntimeCondition | null {
  if (spec.gpu > allocator.total) {
    return {
      type: 'failed',
      reason: 'gpu_request_exceeds_capacity',
      params: { requested: spec.gpu, capacity: allocator.total },
      message: `requested ${spec.gpu} GPUs per replica; this machine has ${allocator.total}`,
    };
  }
  const current = replicas.filter((r) => r.template === template && r.phase !== 'terminating');
  const looping = current.find((r) => r.failedStarts >= crashLoopLimit);
  if (looping) {
    const cause = looping.lastFailureCause;
    const params = { ...cause?.params, failures: looping.failedStarts, lastFailure: looping.lastFailure ?? '' };
    const generic = `replica failed to become ready ${looping.failedStarts} times in a row; last: ${looping.lastFailure}`;
    return {
      type: 'failed',
      // The replica named why (the artifact's checksum, its download); else never got as far as listening: the
      // model does not load (bad artifact, missing runtime library…).
      reason: cause?.code ?? (looping.listenedInFailedStarts ? 'crash_loop' : 'model_load_failed'),
      params,
      message: (cause && englishStatusMessage(cause.code, params)) ?? generic,
    };
  }
  // A handover recipient waits for GPUs already on their way to it; that is progress, not a shortage.
  const waiting = current.filter((r) => r.phase === 'pending' && !r.handover);
  if (waiting.length) {
    return {
      type: 'waiting',
      reason: 'insufficient_gpu',
      params: { waiting: waiting.length, gpus: spec.gpu, free: allocator.free, total: allocator.total },
      message:
        `${waiting.length} replica(s) waiting for ${spec.gpu} free GPUs each; ` +
        `${allocator.free} of the ${allocator.total} GPUs of this machine are free`,
    };
  }
  return null;
}
