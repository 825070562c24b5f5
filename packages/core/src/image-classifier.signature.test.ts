import { describe, expect, it } from 'vitest';
import { imageClassifierSignature, type SignatureCheck } from './image-classifier.signature.js';
import type { Preprocessing, TensorSpec } from './model.js';

const input = (shape: number[], datatype = 'FP32'): TensorSpec => ({ name: 'image', datatype, shape });
const output = (shape: number[], datatype = 'FP32'): TensorSpec => ({ name: 'scores', datatype, shape });
const labels = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
const pre = (p: Partial<Preprocessing>): Preprocessing => ({ mean: [0, 0, 0], std: [1, 1, 1], ...p });

function problems(check: SignatureCheck): Record<string, string> {
  if (check.ok) return {};
  return Object.fromEntries(check.problems.map((p) => [p.field, p.message.en]));
}

describe('imageClassifierSignature', () => {
  it('plans a fixed-size classifier: NCHW [1,3,H,W], first output, one score per label', () => {
    const check = imageClassifierSignature({ inputs: [input([1, 3, 32, 48])], outputs: [output([1, 3])] }, labels(3), null);
    expect(check).toEqual({
      ok: true,
      plan: {
        inputName: 'image',
        layout: 'NCHW',
        inputDims: [1, 3, 32, 48],
        height: 32,
        width: 48,
        batch: 'fixed',
        outputName: 'scores',
        classCount: 3,
        classCountDeclared: true,
        sizeDeclared: true,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
    });
  });

  it('takes a dynamic batch, feeds one image, and reads [N,C,1,1] scores as C classes', () => {
    const check = imageClassifierSignature({ inputs: [input([-1, 3, 224, 224])], outputs: [output([-1, 1000, 1, 1])] }, labels(1000), null);
    expect(check.ok && check.plan).toMatchObject({ batch: 'dynamic', inputDims: [1, 3, 224, 224], classCount: 1000 });
  });

  it('refuses a fixed batch other than 1 ([4,3,H,W]): predict sends one image', () => {
    const check = imageClassifierSignature({ inputs: [input([4, 3, 224, 224])], outputs: [output([-1, 10])] }, labels(10), null);
    expect(problems(check).file).toMatch(/fixed batch of 4 images, but predict sends one image at a time/);
  });

  it('refuses a score map with dynamic dimensions ([N,1,H,W], a text detector), naming the artifact field', () => {
    const check = imageClassifierSignature(
      { inputs: [input([-1, 3, -1, -1])], outputs: [output([-1, 1, -1, -1])] },
      ['text'],
      pre({ size: [224, 224] }),
      { artifactField: 'artifact_uri' },
    );
    expect(Object.keys(problems(check))).toEqual(['artifact_uri']);
    expect(problems(check).artifact_uri).toMatch(/shape \[\?,1,\?,\?\], a map of scores per image/);
  });

  it('refuses a fixed score map too, and a label count that differs from a fixed class count', () => {
    expect(problems(imageClassifierSignature({ inputs: [input([1, 3, 8, 8])], outputs: [output([1, 1, 8, 8])] }, ['text'], null)).file).toMatch(/map of scores/);
    expect(problems(imageClassifierSignature({ inputs: [input([1, 3, 8, 8])], outputs: [output([1, 5])] }, labels(3), null))).toEqual({
      labels: `labels has 3 entries but the model's output "scores" has 5 classes`,
    });
  });

  it('requires preprocessing.size when height or width is dynamic, and uses it', () => {
    const signature = { inputs: [input([1, 3, -1, -1])], outputs: [output([1, 3])] };
    expect(problems(imageClassifierSignature(signature, labels(3), null))['preprocessing.size']).toMatch(/^is required: .*dynamic \[H,W\]/);
    const check = imageClassifierSignature(signature, labels(3), pre({ size: [240, 320] }));
    expect(check.ok && check.plan).toMatchObject({ inputDims: [1, 3, 240, 320], sizeDeclared: false });
  });

  it('refuses a size that contradicts a fixed side, and sizes out of 1…4096', () => {
    const fixed = { inputs: [input([1, 3, 224, -1])], outputs: [output([1, 3])] };
    expect(problems(imageClassifierSignature(fixed, labels(3), pre({ size: [256, 256] })))['preprocessing.size']).toMatch(/contradicts the fixed size \[224,W\]/);
    expect(imageClassifierSignature(fixed, labels(3), pre({ size: [224, 300] })).ok).toBe(true);
    expect(Object.keys(problems(imageClassifierSignature(fixed, labels(3), pre({ size: [0, 5000] }))))).toEqual(['preprocessing.size[0]', 'preprocessing.size[1]']);
    expect(Object.keys(problems(imageClassifierSignature(fixed, labels(3), pre({ size: [224.5, 10] }))))).toEqual(['preprocessing.size[0]']);
  });

  it('refuses non-finite or absurd mean and std, naming each element', () => {
    const signature = { inputs: [input([1, 3, 8, 8])], outputs: [output([1, 3])] };
    const check = imageClassifierSignature(signature, labels(3), { mean: [1e308, 0, Infinity], std: [1e-308, 1, 2000] });
    expect(problems(check)).toEqual({
      'preprocessing.mean[0]': 'must be a finite number from -1000 to 1000 (images are scaled to [0,1] first)',
      'preprocessing.mean[2]': 'must be a finite number from -1000 to 1000 (images are scaled to [0,1] first)',
      'preprocessing.std[0]': 'must be a finite number from 0.000001 to 1000',
      'preprocessing.std[2]': 'must be a finite number from 0.000001 to 1000',
    });
    expect(imageClassifierSignature(signature, labels(3), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }).ok).toBe(true);
  });

  it('accepts a dynamic class dimension, marked as not declared (only a run can confirm it)', () => {
    const check = imageClassifierSignature({ inputs: [input([-1, 3, 8, 8])], outputs: [output([-1, -1])] }, labels(7), null);
    expect(check.ok && check.plan).toMatchObject({ classCount: 7, classCountDeclared: false });
  });

  it('refuses what cannot take an image: two inputs, INT64, rank 3, 1 channel, integer scores, no output', () => {
    const refuse = (inputs: TensorSpec[], outputs: TensorSpec[]) => problems(imageClassifierSignature({ inputs, outputs }, labels(3), null)).file;
    expect(refuse([input([1, 3, 8, 8]), input([1])], [output([1, 3])])).toMatch(/it has 2 inputs/);
    expect(refuse([input([1, 4], 'INT64')], [output([1, 3])])).toMatch(/input "image" is INT64/);
    expect(refuse([input([1, 8, 8])], [output([1, 3])])).toMatch(/shape \[1,8,8\]/);
    expect(refuse([input([1, 1, 8, 8])], [output([1, 3])])).toMatch(/1 channels, not 3/);
    expect(refuse([input([1, 3, 8, 8])], [output([1, 3], 'INT64')])).toMatch(/is INT64, not float scores/);
    expect(refuse([input([1, 3, 8, 8])], [])).toMatch(/it has no output/);
  });

  it('words every problem in both languages', () => {
    const check = imageClassifierSignature({ inputs: [input([4, 3, 8, 8])], outputs: [output([1, 3])] }, labels(2), null);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    for (const p of check.problems) {
      expect(p.message.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(p.message.en).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });
});
