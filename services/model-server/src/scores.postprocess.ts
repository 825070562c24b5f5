import type { Prediction } from '@remotegpu/core';
export type { Prediction };

/** Tolerance on the sum of values that already are probabilities (float32 softmax outputs rarely sum to exactly 1). */
const PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * Confidences in [0,1] (DESIGN §3): values that already look like probabilities (all in [0,1], summing to 1 ± 1e-3)
 * are kept as they are; anything else is treated as logits and goes through a numerically stable softmax.
 */
export function toProbabilities(scores: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const out = new Float64Array(n);
  let sum = 0;
  let probabilities = true;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    out[i] = v;
    sum += v;
    if (!(v >= 0 && v <= 1)) probabilities = false;
    if (v > max) max = v;
  }
  if (probabilities && Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE) return out;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(out[i] - max);
    out[i] = e;
    total += e;
  }
  for (let i = 0; i < n; i++) out[i] /= total;
  return out;
}

/**
 * The `k` most likely classes, most likely first; ties keep the model's class order. For the usual small `k` a
 * single pass keeps a sorted top list (O(n·k)); a large `k` sorts every index instead.
 */
export function topK(probabilities: Float64Array, labels: readonly string[], k: number): Prediction[] {
  const n = probabilities.length;
  const count = Math.min(k, n);
  let order: number[];
  if (count * 8 < n) {
    order = [];
    for (let i = 0; i < n; i++) {
      const v = probabilities[i];
      if (order.length === count && v <= probabilities[order[count - 1]]) continue;
      let at = order.length === count ? count - 1 : order.length;
      while (at > 0 && probabilities[order[at - 1]] < v) {
        order[at] = order[at - 1];
        at--;
      }
      order[at] = i;
    }
  } else {
    order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
    order.length = count;
  }
  return order.map((i) => ({ class: labels[i], confidence: probabilities[i] }));
}
