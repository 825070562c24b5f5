import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOfOneOnlyOnnx, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { getJson, imageBody, modelEnv, postJson, startModelServer, holdIncomplete, type ModelServerProcess } from './spawn.js';

/**
 * A model whose batch dimension is declared dynamic but whose graph only runs one image (see batchOfOneOnlyOnnx),
 * served with batching on. Four requests with a fifth still arriving: the batcher waits for company until the
 * batch is full (max_batch_size 4; the 1 s delay is far more than decoding four small images takes), so the four
 * form exactly one batch of 4, which fails.
 */
const BATCH = 4;
const BATCHING = JSON.stringify({ max_batch_size: BATCH, max_queue_delay_ms: 1000, preferred_batch_sizes: [] });
const H = 16;
const W = 16;
const MODEL = 'svc-test0000001';

interface Envelope {
  code: number;
  message: string;
  data?: { predictions?: { class: string; confidence: number }[] };
}

/** `rgpu_model_batch_size` from /metrics: runs of at most `le` rows (cumulative), and the number of runs. */
async function batchSizes(url: string): Promise<{ le: (bound: number) => number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^rgpu_model_batch_size_bucket\{[^}]*le="([^"]+)"\} (\d+)$/gm)) buckets.set(m[1], Number(m[2]));
  const count = Number(/^rgpu_model_batch_size_count\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? NaN);
  return { le: (bound) => buckets.get(String(bound)) ?? NaN, count };
}

let dir: TempDir;
let server: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-batch-failure-');
  const env = await modelEnv(dir.path, 'one-only.onnx', batchOfOneOnlyOnnx(H, W), { RGPU_BATCHING: BATCHING });
  server = await startModelServer({ env });
}, 60_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await dir?.cleanup();
});

describe('a batch whose model run fails', () => {
  it('/predict: every request of that batch gets a 500 naming the batch, without a stack; the replica serves on', async () => {
    const image = await solidImage('red', { format: 'png', width: 30, height: 30 });
    const before = await batchSizes(server.url);
    const cut = await holdIncomplete(server.url);
    let answers: { status: number; body: Envelope }[];
    try {
      answers = await Promise.all(
        Array.from({ length: BATCH }, (_, i) =>
          postJson<Envelope>(`${server.url}/predict`, imageBody(image), i % 2 === 0 ? { 'accept-language': 'en' } : {}),
        ),
      );
    } finally {
      cut();
    }

    answers.forEach((a, i) => {
      expect(a.status, `request ${i}`).toBe(500);
      // The platform envelope, nothing else: no stack, no onnxruntime internals.
      expect(Object.keys(a.body).sort()).toEqual(['code', 'message']);
      expect(a.body.code).toBe(50000);
      expect(a.body.message).toBe(
        i % 2 === 0
          ? `The model run for a batch of ${BATCH} images failed; every request in that batch failed, retry it`
          : `模型对 ${BATCH} 张图像的批量推理失败，本批次中的请求均失败，请重试`,
      );
      expect(JSON.stringify(a.body)).not.toMatch(/\bat .+:\d+:\d+|Reshape|onnxruntime/);
    });

    // The four really ran as ONE model run of 4 rows (the metric counts failed runs too).
    const during = await batchSizes(server.url);
    expect(during.count - before.count).toBe(1);
    expect(during.le(2) - before.le(2)).toBe(0);
    expect(during.le(4) - before.le(4)).toBe(1);

    // Only that batch failed: the replica is alive and ready, and a lone request (a run of one) is answered.
    expect(server.child.exitCode).toBeNull();
    expect((await getJson(`${server.url}/v2/health/ready`)).status).toBe(200);
    const alone = await postJson<Envelope>(`${server.url}/predict`, imageBody(image), { 'accept-language': 'en' });
    expect(alone.status).toBe(200);
    expect(alone.body.data!.predictions![0].class).toBe('red');
    const after = await batchSizes(server.url);
    expect(after.count - during.count).toBe(1);
    expect(after.le(1) - during.le(1)).toBe(1);
  });

  it('OIP v2 infer: the failed stacked run falls back to one run per request, so every request gets its 200', async () => {
    const bodies = Array.from({ length: BATCH }, (_, r) => ({
      inputs: [{ name: 'image', shape: [1, 3, H, W], datatype: 'FP32', data: Array.from({ length: 3 * H * W }, (_, i) => (Math.floor(i / (H * W)) === r % 3 ? 1 : 0)) }],
    }));
    const before = await batchSizes(server.url);
    const cut = await holdIncomplete(server.url);
    let answers: { status: number; body: { outputs: { name: string; shape: number[]; data: number[] }[] } }[];
    try {
      answers = await Promise.all(bodies.map((body) => postJson(`${server.url}/v2/models/${MODEL}/infer`, body)));
    } finally {
      cut();
    }

    answers.forEach((a, r) => {
      expect(a.status, `request ${r}`).toBe(200);
      const [scores] = a.body.outputs;
      expect(scores.shape).toEqual([1, 3]);
      // Each request's own answer: the channel it lit up wins (+5, the others −5).
      expect(scores.data.indexOf(Math.max(...scores.data))).toBe(r % 3);
    });

    // One stacked run of 4 rows (the one that failed), then one extra run of 1 row per request.
    const after = await batchSizes(server.url);
    expect(after.count - before.count).toBe(1 + BATCH);
    expect(after.le(1) - before.le(1)).toBe(BATCH);
    expect(after.le(4) - after.le(2) - (before.le(4) - before.le(2))).toBe(1);
    expect((await getJson(`${server.url}/v2/health/ready`)).status).toBe(200);
  });
});
