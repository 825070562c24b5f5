import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { COLOR_LABELS, brokenOnnx, colorClassifierOnnx, dynamicInputOnnx, nanScoresOnnx, nonImageOnnx, scoreMapOnnx } from './onnx-models.js';

type Rgb = [number, number, number];

/** An NCHW float32 image of one colour in [0,1] with a little structured variation. */
function imageTensor(rgb: Rgb, height = 32, width = 32): Tensor {
  const plane = height * width;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) data[c * plane + i] = Math.min(1, Math.max(0, rgb[c] + ((i % 7) - 3) * 0.02));
  }
  return new Tensor('float32', data, [1, 3, height, width]);
}

async function scoresFor(model: Buffer, image: Tensor): Promise<number[]> {
  const session = await InferenceSession.create(model);
  try {
    const result = await session.run({ image });
    const scores = result.scores;
    expect(scores.dims).toEqual([1, 3]);
    return Array.from(scores.data as Float32Array);
  } finally {
    await session.release();
  }
}

function argmax(values: number[]): number {
  return values.indexOf(Math.max(...values));
}

const CASES: Array<[string, Rgb]> = [
  ['red', [0.9, 0.1, 0.15]],
  ['green', [0.1, 0.8, 0.2]],
  ['blue', [0.15, 0.2, 0.85]],
];

describe('colorClassifierOnnx', () => {
  it('labels its classes red, green, blue', () => {
    expect(COLOR_LABELS).toEqual(['red', 'green', 'blue']);
  });

  it.each(CASES)('ranks %s first for a mostly-%s image, with a clear logit margin', async (label, rgb) => {
    const scores = await scoresFor(colorClassifierOnnx(), imageTensor(rgb));
    expect(COLOR_LABELS[argmax(scores)]).toBe(label);
    const sorted = [...scores].sort((a, b) => b - a);
    expect(sorted[0] - sorted[1]).toBeGreaterThan(3);
  });

  it('outputs probabilities when logits is false', async () => {
    const scores = await scoresFor(colorClassifierOnnx({ logits: false }), imageTensor([0.9, 0.1, 0.1]));
    expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(scores.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(scores[0]).toBeGreaterThan(0.99);
  });

  it('declares the requested input size and rejects other sizes', async () => {
    const model = colorClassifierOnnx({ height: 8, width: 16 });
    const session = await InferenceSession.create(model);
    try {
      expect(session.inputNames).toEqual(['image']);
      expect(session.outputNames).toEqual(['scores']);
      expect(session.inputMetadata[0]).toMatchObject({ isTensor: true, type: 'float32', shape: [1, 3, 8, 16] });
      await expect(session.run({ image: imageTensor([1, 0, 0], 32, 32) })).rejects.toThrow();
    } finally {
      await session.release();
    }
    expect(argmax(await scoresFor(model, imageTensor([0, 0, 1], 8, 16)))).toBe(2);
  });
});

describe('dynamicInputOnnx', () => {
  it('has symbolic height and width and classifies any size', async () => {
    const model = dynamicInputOnnx();
    const session = await InferenceSession.create(model);
    try {
      expect(session.inputMetadata[0]).toMatchObject({ shape: [1, 3, 'height', 'width'] });
    } finally {
      await session.release();
    }
    expect(argmax(await scoresFor(model, imageTensor([0.1, 0.9, 0.1], 5, 11)))).toBe(1);
    expect(argmax(await scoresFor(model, imageTensor([0.9, 0.1, 0.1], 64, 48)))).toBe(0);
  });
});

describe('colorClassifierOnnx variants', () => {
  it('declares a fixed batch of 4, or a symbolic class dimension that a run shows to be 3', async () => {
    const four = await InferenceSession.create(colorClassifierOnnx({ batch: 4, height: 8, width: 8 }));
    const open = await InferenceSession.create(colorClassifierOnnx({ dynamicClasses: true, height: 8, width: 8 }));
    try {
      expect(four.inputMetadata[0]).toMatchObject({ shape: [4, 3, 8, 8] });
      expect(open.outputMetadata[0]).toMatchObject({ shape: [1, 'classes'] });
      const out = await open.run({ image: imageTensor([1, 0, 0], 8, 8) });
      expect(out.scores.dims).toEqual([1, 3]);
    } finally {
      await four.release();
      await open.release();
    }
  });
});

describe('scoreMapOnnx and nanScoresOnnx', () => {
  it('outputs a [N,1,H,W] map, and NaN scores', async () => {
    const map = await InferenceSession.create(scoreMapOnnx());
    try {
      expect(map.outputMetadata[0]).toMatchObject({ name: 'score_map', shape: ['N', 1, 'H', 'W'] });
      expect((await map.run({ image: imageTensor([1, 0, 0], 6, 7) })).score_map.dims).toEqual([1, 1, 6, 7]);
    } finally {
      await map.release();
    }
    const scores = await scoresFor(nanScoresOnnx(), imageTensor([0.5, 0.5, 0.5], 8, 8));
    expect(Array.from(scores).every(Number.isNaN)).toBe(true);
  });
});

describe('nonImageOnnx', () => {
  it('loads, takes int64 ids and returns them as float32', async () => {
    const session = await InferenceSession.create(nonImageOnnx());
    try {
      expect(session.inputMetadata[0]).toMatchObject({ name: 'ids', type: 'int64', shape: [1, 4] });
      const out = await session.run({ ids: new Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 4n]), [1, 4]) });
      expect(Array.from(out.values.data as Float32Array)).toEqual([1, 2, 3, 4]);
    } finally {
      await session.release();
    }
  });
});

describe('brokenOnnx', () => {
  it('is not loadable, and is the same bytes every time', async () => {
    expect(brokenOnnx().equals(brokenOnnx())).toBe(true);
    await expect(InferenceSession.create(brokenOnnx())).rejects.toThrow();
  });
});
