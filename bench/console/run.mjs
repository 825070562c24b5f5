// Console benchmark (issue 10): the shipped size of the console (JS and CSS, gzipped) and the time until the
// services page shows 1,000 services in headless Debian chromium, against the real standalone platform (SQLite).
// The 1,000 services are written straight into the store as stopped (desired and observed), so the provisioner has
// nothing to start and the figure is the console's: GraphQL pages of 100 read concurrently, then one render.
// Usage: npm run bench:console   (BENCH_CONSOLE_SERVICES, BENCH_CONSOLE_ROUNDS to change sizes)
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { newServiceId } from '@remotegpu/core';
import { loadConfig, startPlatform } from '@remotegpu/standalone';
import { signToken, tempDir } from '@remotegpu/testkit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'packages/console/dist');
const SERVICES = Number(process.env.BENCH_CONSOLE_SERVICES ?? 1000);
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 5);
const CHROMIUM = process.env.RGPU_CHROMIUM ?? '/usr/bin/chromium';
const SECRET = 'bench-console-secret-0123456789-abcdefghijklmnop';
const WS = 1;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function shippedSize() {
  const files = (await readdir(path.join(DIST, 'assets'))).filter((f) => /\.(js|css)$/.test(f));
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const bytes = await readFile(path.join(DIST, 'assets', f));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.length, raw, gz };
}

async function seed(store) {
  const at = new Date().toISOString();
  const model = await store.models.create({ workspaceId: WS, name: 'bench', framework: 'onnx', task: 'image-classification', description: '', createdAt: at, updatedAt: at });
  const base = Date.now() - SERVICES * 1000;
  for (let i = 0; i < SERVICES; i++) {
    const t = new Date(base + i * 1000).toISOString();
    await store.services.create({
      id: newServiceId(), workspaceId: WS, name: `console bench ${i}`, description: '', modelId: model.id, modelVersion: 'v1', framework: 'onnx',
      cpu: 1, memory: 2 ** 31, gpu: 0, replicas: 1, desiredState: 'stopped', status: 'stopped', statusReason: null, statusMessage: null,
      readyReplicas: 0, endpoints: [], generation: 1, observedGeneration: 1, createdAt: t, updatedAt: t, deletedAt: null,
    });
  }
}

if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('the console is not built: run npm run build first');
if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
const size = await shippedSize();
const dir = await tempDir('rgpu-bench-console-');
const platform = await startPlatform(
  loadConfig({ PORT: '0', RGPU_DATA_DIR: dir.path, RGPU_JWT_SECRET: SECRET, RGPU_LOG_LEVEL: 'silent', RGPU_LOCAL_GPUS: '0' }),
  pino({ level: 'silent' }),
);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  await seed(platform.store);
  const token = await signToken(SECRET, { sub: 'bench', workspaces: [WS] });
  const times = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    // A fresh context each round: empty cache, so every round downloads the assets as a first visit does.
    const context = await browser.newContext();
    await context.addInitScript((t) => sessionStorage.setItem('rgpu.token', t), token);
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${platform.url}/console/#/services?size=all`);
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-service-id]').length >= n, SERVICES, { timeout: 30_000, polling: 'raf' });
    const ms = performance.now() - t0;
    if (round > 0) times.push(ms); // round 0 warms the platform (SQLite pages, GraphQL schema caches), not the browser
    await context.close();
  }
  const kb = (n) => (n / 1024).toFixed(1);
  console.log('\nConsole (packages/console/dist, Preact + Vite)');
  console.log(`  shipped JS+CSS     ${size.files} files, ${kb(size.raw)} KiB raw, ${kb(size.gz)} KiB gzipped   (target < 150 KB)`);
  console.log(`  services page, ${SERVICES} services: ${median(times).toFixed(0)} ms median of ${ROUNDS} cold loads (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})   (target < 1 s)`);
  console.log('  measured: navigation to /console/#/services?size=all until every row is in the DOM, fresh browser context each time');
} finally {
  await browser.close();
  await platform.stop();
  await dir.cleanup();
}
