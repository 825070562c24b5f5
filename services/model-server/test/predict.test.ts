import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS, colorClassifierOnnx, nanScoresOnnx, solidImage, tempDir, type ImageFormat, type TempDir } from '@remotegpu/testkit';
import { imageBody, modelEnv, postJson, startModelServer, type ModelServerProcess } from './spawn.js';

interface Prediction {
  class: string;
  confidence: number;
}
interface PredictEnvelope {
  code: number;
  message: string;
  data?: { predictions?: Prediction[]; errors?: { field: string; message: string }[] };
}

const FORMATS: ImageFormat[] = ['png', 'jpeg', 'webp'];
// Both smaller and larger than the models' 20×24 input, and not of its aspect ratio.
const SIZES = [
  { width: 37, height: 11 },
  { width: 300, height: 190 },
];

let dir: TempDir;
let logits: ModelServerProcess;
let softmax: ModelServerProcess;
let normalized: ModelServerProcess;
let nan: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-predict-');
  [logits, softmax, normalized, nan] = await Promise.all([
    modelEnv(dir.path, 'logits.onnx', colorClassifierOnnx({ height: 20, width: 24, logits: true })).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'softmax.onnx', colorClassifierOnnx({ height: 20, width: 24, logits: false })).then((env) => startModelServer({ env })),
    // Green weighs ten times as much as the others, so a red image must come out green; and a small body limit.
    modelEnv(dir.path, 'normalized.onnx', colorClassifierOnnx({ height: 8, width: 8 }), {
      RGPU_PREPROCESSING: JSON.stringify({ mean: [0, 0, 0], std: [1, 0.1, 1] }),
      RGPU_MAX_BODY_BYTES: String(64 * 1024),
    }).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'nan.onnx', nanScoresOnnx()).then((env) => startModelServer({ env })),
  ]);
});

afterAll(async () => {
  await Promise.all([logits, softmax, normalized, nan].filter(Boolean).map((s) => s.stop('SIGKILL')));
  await dir?.cleanup();
});

function expectProbabilities(predictions: Prediction[], count: number): void {
  expect(predictions).toHaveLength(count);
  for (const p of predictions) {
    expect(p.confidence).toBeGreaterThanOrEqual(0);
    expect(p.confidence).toBeLessThanOrEqual(1);
  }
  const confidences = predictions.map((p) => p.confidence);
  expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
}

describe('POST /predict', () => {
  for (const format of FORMATS) {
    it(`classifies red, green and blue ${format} images of other sizes than the model's`, async () => {
      for (const server of [logits, softmax]) {
        for (const size of SIZES) {
          for (const color of COLOR_LABELS) {
            const image = await solidImage(color, { format, ...size });
            const res = await postJson<PredictEnvelope>(`${server.url}/predict`, imageBody(image, 3));
            expect(res.status, `${color} ${format} ${size.width}x${size.height}`).toBe(200);
            expect(res.body.code).toBe(0);
            expect(res.body.message).toBe('success');
            const predictions = res.body.data!.predictions!;
            expect(predictions[0].class, `${color} ${format} ${size.width}x${size.height}`).toBe(color);
            expect(predictions[0].confidence).toBeGreaterThan(0.9);
            expectProbabilities(predictions, 3);
            // top_k 3 is every class: the probabilities cover all of the mass.
            expect(predictions.reduce((sum, p) => sum + p.confidence, 0)).toBeCloseTo(1, 5);
          }
        }
      }
    });
  }

  it('turns logits into the same probabilities that a model with its own softmax reports', async () => {
    // Softmax applied twice (or not at all) would give visibly different numbers for the same image.
    const image = await solidImage([120, 90, 60], { format: 'png', width: 24, height: 20 });
    const [a, b] = await Promise.all([logits, softmax].map((s) => postJson<PredictEnvelope>(`${s.url}/predict`, imageBody(image, 3))));
    const fromLogits = a.body.data!.predictions!;
    const fromSoftmax = b.body.data!.predictions!;
    expect(fromLogits.map((p) => p.class)).toEqual(fromSoftmax.map((p) => p.class));
    fromLogits.forEach((p, i) => expect(p.confidence).toBeCloseTo(fromSoftmax[i].confidence, 5));
    expect(fromLogits[0].confidence).toBeLessThan(0.99); // a mixed colour: not a one-hot answer
  });

  it('answers five predictions by default, capped at the number of classes, and honours a smaller top_k', async () => {
    const image = await solidImage('blue', { format: 'png' });
    const all = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(image));
    expectProbabilities(all.body.data!.predictions!, 3);
    const one = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(image, 1));
    expect(one.body.data!.predictions).toEqual([all.body.data!.predictions![0]]);
  });

  it('accepts a data: URL prefix and line-wrapped base64', async () => {
    const image = await solidImage('green', { format: 'webp', width: 64, height: 64 });
    const wrapped = image.toString('base64').replace(/(.{76})/g, '$1\n');
    const res = await postJson<PredictEnvelope>(`${logits.url}/predict`, { inputs: { image: `data:image/webp;base64,${wrapped}` } });
    expect(res.status).toBe(200);
    expect(res.body.data!.predictions![0].class).toBe('green');
  });

  it('drops the alpha channel of an RGBA image', async () => {
    const rgba = await sharp(Buffer.alloc(40 * 30 * 4).fill(Buffer.from([200, 20, 20, 128])), { raw: { width: 40, height: 30, channels: 4 } })
      .png()
      .toBuffer();
    const res = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(rgba));
    expect(res.status).toBe(200);
    expect(res.body.data!.predictions![0].class).toBe('red');
  });

  it('normalizes by the version mean and std', async () => {
    const red = await solidImage('red', { format: 'png' });
    const plain = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(red));
    const res = await postJson<PredictEnvelope>(`${normalized.url}/predict`, imageBody(red));
    expect(plain.body.data!.predictions![0].class).toBe('red');
    expect(res.body.data!.predictions![0].class).toBe('green');
  });

  it('answers a broken image with a 400 envelope that says it could not be decoded', async () => {
    const png = await solidImage('red', { format: 'png', width: 64, height: 64 });
    for (const bytes of [png.subarray(0, png.length / 2), Buffer.from('GIF89a not really an image'), Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2])]) {
      const zh = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(bytes));
      expect(zh.status).toBe(400);
      expect(zh.body.code).toBe(40000);
      expect(zh.body.message).toMatch(/^无法解码图像/);
      expect(zh.body.data!.errors![0].field).toBe('inputs.image');
      const en = await postJson<PredictEnvelope>(`${logits.url}/predict`, imageBody(bytes), { 'accept-language': 'en-US,en;q=0.9' });
      expect(en.status).toBe(400);
      expect(en.body.message).toMatch(/could not be decoded.*PNG, JPEG or WebP/);
    }
  });

  it('rejects bodies that are not a predict request with field errors', async () => {
    const cases: [unknown, string][] = [
      [{}, 'inputs'],
      [{ inputs: { image: 'not base64!' } }, 'inputs.image'],
      [{ inputs: { image: (await solidImage('red', { format: 'png' })).toString('base64') }, parameters: { top_k: 0 } }, 'parameters.top_k'],
    ];
    for (const [body, field] of cases) {
      const res = await postJson<PredictEnvelope>(`${logits.url}/predict`, body, { 'accept-language': 'en' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data!.errors!.map((e) => e.field)).toContain(field);
    }
    const notJson = await postJson<PredictEnvelope>(`${logits.url}/predict`, '{"inputs": ', { 'accept-language': 'en' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not valid JSON/);
  });

  it('never answers a confidence that is not a number: NaN scores are a 422 that says so, in both languages', async () => {
    const image = imageBody(await solidImage('red', { format: 'png' }));
    const en = await postJson<PredictEnvelope>(`${nan.url}/predict`, image, { 'accept-language': 'en' });
    expect(en.status).toBe(422);
    expect(en.body).toEqual({
      code: 42200,
      message: 'The model produced scores that are not finite numbers (NaN or Infinity) in output "scores", so no confidence can be given; check the model and its version\'s preprocessing',
    });
    const zh = await postJson<PredictEnvelope>(`${nan.url}/predict`, image);
    expect(zh.status).toBe(422);
    expect(zh.body.message).toMatch(/^模型输出 "scores" 含有非有限数值 \(NaN 或 Infinity\)/);
    // Not the replica's fault: it keeps answering, and still answers OIP infer with the raw scores.
    expect((await fetch(`${nan.url}/v2/health/ready`)).status).toBe(200);
  });

  it('refuses a body over RGPU_MAX_BODY_BYTES with 413 / 41300', async () => {
    const big = await solidImage('red', { format: 'png', width: 400, height: 400 });
    expect(big.length * 1.34).toBeGreaterThan(64 * 1024);
    const res = await postJson<PredictEnvelope>(`${normalized.url}/predict`, imageBody(big), { 'accept-language': 'en' });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe(41300);
    expect(res.body.message).toMatch(/65536 bytes/);
    // The replica still serves afterwards.
    const small = await postJson<PredictEnvelope>(`${normalized.url}/predict`, imageBody(await solidImage('blue', { format: 'png' })));
    expect(small.status).toBe(200);
  });
});
