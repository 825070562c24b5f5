import type { Localized } from './errors.js';
import type { Preprocessing, TensorSpec } from './model.js';
import { imageClassifierSignature } from './image-classifier.signature.js';

/**
 * Dynamic batching of one model version (Triton's dynamic batcher, in KServe/Triton terms): concurrent requests
 * are queued and run as one model run of up to `maxBatchSize` images, as soon as the queue holds a preferred or
 * the maximum size, or its oldest request has waited `maxQueueDelayMs`.
 */
export interface BatchingConfig {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** Ascending, each ≤ maxBatchSize; empty: only the maximum size or the delay starts a run. */
  preferredBatchSizes: number[];
}

export const BATCHING_LIMITS = {
  maxBatchSize: 256,
  maxQueueDelayMs: 1000,
  preferredCount: 16,
  /** Used when `max_queue_delay_ms` is left out: short enough to be invisible next to a model run. */
  defaultQueueDelayMs: 5,
} as const;

/** The wire form (REST, GraphQL JSON, RGPU_BATCHING), snake_case as in the rest of the API. */
export interface BatchingWire {
  max_batch_size: number;
  max_queue_delay_ms: number;
  preferred_batch_sizes: number[];
}

export function batchingToWire(c: BatchingConfig): BatchingWire {
  return { max_batch_size: c.maxBatchSize, max_queue_delay_ms: c.maxQueueDelayMs, preferred_batch_sizes: [...c.preferredBatchSizes] };
}

/**
 * How many requests a replica with this batching should be given at once: two batches' worth, one running and one
 * filling while it runs (KServe's containerConcurrency ≥ batch size, for the same reason). Null when batching is off:
 * the router's own per-replica cap applies. A cap below the batch size would keep batches from ever filling.
 */
export function inFlightForBatching(batching: BatchingConfig | null | undefined): number | null {
  return batching && batching.maxBatchSize > 1 ? 2 * batching.maxBatchSize : null;
}

const text = (zh: string, en: string): Localized => ({ zh, en });
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * `{max_batch_size, max_queue_delay_ms?, preferred_batch_sizes?}`, or null for "off". A max_batch_size of 1 is
 * accepted and means off as well. Whether the model can take a batch is decided against its signature
 * ({@link batchingProblem}).
 */
export function parseBatching(v: unknown): { ok: true; value: BatchingConfig | null } | { ok: false; message: Localized } {
  if (v === null) return { ok: true, value: null };
  const L = BATCHING_LIMITS;
  const shape = text(
    `必须是 {"max_batch_size":1…${L.maxBatchSize},"max_queue_delay_ms":0…${L.maxQueueDelayMs},"preferred_batch_sizes":[…]} 或 null`,
    `must be {"max_batch_size":1…${L.maxBatchSize},"max_queue_delay_ms":0…${L.maxQueueDelayMs},"preferred_batch_sizes":[…]} or null`,
  );
  if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: shape };
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'max_batch_size' && k !== 'max_queue_delay_ms' && k !== 'preferred_batch_sizes');
  if (unknown.length) return { ok: false, message: text(`未知字段 ${unknown.join(', ')}；${shape.zh}`, `unknown field ${unknown.join(', ')}; ${shape.en}`) };
  if (!isInt(o.max_batch_size, 1, L.maxBatchSize)) {
    return { ok: false, message: text(`max_batch_size 必须是 1 到 ${L.maxBatchSize} 的整数`, `max_batch_size must be an integer from 1 to ${L.maxBatchSize}`) };
  }
  const max = o.max_batch_size;
  const delay = o.max_queue_delay_ms ?? L.defaultQueueDelayMs;
  if (!isInt(delay, 0, L.maxQueueDelayMs)) {
    return { ok: false, message: text(`max_queue_delay_ms 必须是 0 到 ${L.maxQueueDelayMs} 的整数`, `max_queue_delay_ms must be an integer from 0 to ${L.maxQueueDelayMs}`) };
  }
  const preferred = o.preferred_batch_sizes ?? [];
  const ascending =
    Array.isArray(preferred) &&
    preferred.length <= L.preferredCount &&
    preferred.every((p, i) => isInt(p, 1, max) && (i === 0 || p > (preferred[i - 1] as number)));
  if (!ascending) {
    return {
      ok: false,
      message: text(
        `preferred_batch_sizes 必须是至多 ${L.preferredCount} 个严格递增的整数，每个在 1 到 max_batch_size (${max}) 之间`,
        `preferred_batch_sizes must be at most ${L.preferredCount} strictly ascending integers, each from 1 to max_batch_size (${max})`,
      ),
    };
  }
  if (max === 1) return { ok: true, value: null };
  return { ok: true, value: { maxBatchSize: max, maxQueueDelayMs: delay, preferredBatchSizes: preferred as number[] } };
}

/**
 * Why this model cannot batch, or null when it can: the input's batch dimension must be dynamic (core's
 * imageClassifierSignature plan says `fixed` for a model that only takes one image).
 */
export function batchingProblem(config: BatchingConfig | null, batch: 'fixed' | 'dynamic' | null): Localized | null {
  if (!config || batch === 'dynamic') return null;
  return text(
    '该模型的批次维度固定为 1，无法启用动态批处理（请导出批次维度为动态的模型，或将 batching 设为 null）',
    "the model's batch dimension is fixed at 1, so it cannot be batched (export it with a dynamic batch dimension, or set batching to null)",
  );
}

/**
 * The same check for a registered version, from its recorded signature: the input's batch dimension as core's
 * imageClassifierSignature plans it (the rule the upload and the model server apply), or, for a model predict
 * cannot serve, whether every input's first dimension is dynamic (OIP infer requests are what gets batched).
 */
export function versionBatchingProblem(
  version: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[]; labels: readonly string[]; preprocessing: Preprocessing | null },
  config: BatchingConfig | null,
): Localized | null {
  if (!config) return null;
  const check = imageClassifierSignature(version, version.labels, version.preprocessing);
  const batch = check.ok ? check.plan.batch : version.inputs.every((s) => s.shape[0] === -1) ? 'dynamic' : 'fixed';
  return batchingProblem(config, batch);
}
