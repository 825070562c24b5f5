import { describe, expect, it } from 'vitest';
import { toProbabilities, topK } from './scores.postprocess.js';

describe('scores → predictions', () => {
  it('applies a softmax to logits, stable for large values', () => {
    const p = toProbabilities(Float32Array.from([1000, 999, 998]));
    const e = [1, Math.exp(-1), Math.exp(-2)];
    const sum = e[0] + e[1] + e[2];
    e.forEach((v, i) => expect(p[i]).toBeCloseTo(v / sum, 12));
  });

  it('keeps values that already are probabilities, within the 1e-3 tolerance', () => {
    expect(Array.from(toProbabilities([0.7, 0.2, 0.1005]))).toEqual([0.7, 0.2, 0.1005]);
    // Sums to 1.1: not probabilities, so softmaxed (which reorders nothing but flattens them).
    const flattened = toProbabilities([0.8, 0.2, 0.1]);
    expect(flattened[0]).toBeLessThan(0.5);
    // In [0,1] but a negative value elsewhere is a logit vector.
    expect(toProbabilities([1, -0.5, 0.5])[0]).toBeLessThan(1);
  });

  it('returns the top k, most likely first, ties in class order, the same by selection and by sorting', () => {
    const labels = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const values = Float64Array.from(labels, (_, i) => ((i * 37) % 50) / 1000 + (i === 7 || i === 9 ? 1 : 0));
    const small = topK(values, labels, 3); // 3·8 < 50: the selection path
    const large = topK(values, labels, 50); // the sort path
    expect(small.map((p) => p.class)).toEqual(large.slice(0, 3).map((p) => p.class));
    const confidences = large.map((p) => p.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    const ties = topK(Float64Array.from([0.25, 0.5, 0.25]), ['a', 'b', 'c'], 3);
    expect(ties.map((p) => p.class)).toEqual(['b', 'a', 'c']);
    expect(topK(Float64Array.from([0.25, 0.5, 0.25]), ['a', 'b', 'c'], 10)).toHaveLength(3);
  });
});
