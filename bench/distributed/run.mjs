#!/usr/bin/env node
// `npm run bench:distributed`: the control plane over NATS JetStream (gateway, provisioner and router as three
// processes) against the same platform on the in-process bus (`npm start`), same machine, same model, one run:
//   - create → running: POST /inference/services (1 replica, a real model-server process) until the GraphQL
//     subscriber receives RUNNING with every replica ready;
//   - status event → GraphQL subscriber: from the event's `at` (stamped by the provisioner when it publishes)
//     to its arrival at a graphql-ws client of the gateway. Both ends run on this host, so one clock serves.
// Targets (issue 7): create → running under 1 s, subscriber p99 under 50 ms, over NATS.
// Environment: NATS_URL (default nats://127.0.0.1:4222), BENCH_CREATES (default 10).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { connect } from 'nats';
import { COLOR_LABELS, colorClassifierOnnx } from '@remotegpu/testkit';
import { signToken } from '@remotegpu/auth';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const CREATES = Number(process.env.BENCH_CREATES || 10);
const SECRET = 'bench-distributed-secret-0123456789-abcdefgh';
const children = [];

const median = (xs) => percentile(xs, 50);
function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Spawns `node <main>` and resolves with the port its listening log line names. */
function launch(main, env, listening) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, main)], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${main} did not listen in 30 s:\n${out}`)), 30_000);
    const onData = (d) => {
      out += d.toString();
      const m = listening.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code}:\n${out}`)));
  });
}

async function untilReady(url) {
  for (let i = 0; i < 400; i++) {
    const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not ready`);
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.kill('SIGTERM');
  await gone;
  clearTimeout(force);
}

async function standalone(dataDir) {
  const { child, port } = await launch('services/standalone/dist/main.js', { PORT: '0', RGPU_DATA_DIR: dataDir, RGPU_JWT_SECRET: SECRET, RGPU_LOCAL_GPUS: '0', RGPU_LOG_LEVEL: 'info' }, /"url":"http:\/\/[^:]+:(\d+)"/);
  const base = `http://127.0.0.1:${port}`;
  await untilReady(base);
  return { base, stop: () => stop(child) };
}

async function distributed(dataDir) {
  const run = randomBytes(4).toString('hex');
  const shared = {
    NATS_URL,
    RGPU_NATS_STREAM: `RGPU_BENCH_${run}`,
    RGPU_NATS_SUBJECT_PREFIX: `rgpubench.${run}`,
    PROVISIONER_LEASE_BUCKET: `rgpu_bench_lease_${run}`,
    RGPU_DATA_DIR: dataDir,
    RGPU_JWT_SECRET: SECRET,
    RGPU_LOCAL_GPUS: '0',
    RGPU_LOG_LEVEL: 'info',
  };
  const provisioner = await launch('services/provisioner/dist/main.js', { ...shared, PROVISIONER_PORT: '0' }, /"port":(\d+)[^\n]*provisioner listening/);
  await untilReady(`http://127.0.0.1:${provisioner.port}`);
  const router = await launch('services/router/dist/main.js', { ...shared, ROUTER_PORT: '0' }, /"port":(\d+)[^\n]*router listening/);
  const routerUrl = `http://127.0.0.1:${router.port}`;
  await untilReady(routerUrl);
  const gateway = await launch('services/gateway/dist/main.js', { ...shared, PORT: '0', RGPU_ROUTER_URL: routerUrl, RGPU_PUBLIC_URL: routerUrl }, /"port":(\d+)[^\n]*gateway listening/);
  const base = `http://127.0.0.1:${gateway.port}`;
  await untilReady(base);
  return {
    base,
    async stop() {
      await stop(gateway.child);
      await stop(router.child);
      await stop(provisioner.child);
      const nc = await connect({ servers: NATS_URL });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(shared.RGPU_NATS_STREAM).catch(() => {});
      await jsm.streams.delete(`KV_${shared.PROVISIONER_LEASE_BUCKET}`).catch(() => {});
      await nc.close();
    },
  };
}

/** Registers the demo model, then creates CREATES services one after another, timing each until RUNNING. */
async function measure(base) {
  const token = await signToken(SECRET, { sub: 'bench', workspaces: [1], ttlSeconds: 3600 });
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const model = (await (await fetch(`${base}/api/v1/models`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'colours', workspace_id: 1, framework: 'onnx', task: 'image-classification' }) })).json()).data;
  const form = new FormData();
  form.set('version', 'v1');
  form.set('labels', JSON.stringify(COLOR_LABELS));
  form.set('file', new Blob([colorClassifierOnnx()]), 'colours.onnx');
  const up = await fetch(`${base}/api/v1/models/${model.model_id}/versions`, { method: 'POST', headers: auth, body: form });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);

  const lags = [];
  const runningAt = new Map();
  const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: auth, lazy: false });
  client.subscribe(
    { query: 'subscription { inferenceServiceStatusChanged(workspaceId: 1) { serviceId status readyReplicas replicas at } }' },
    {
      next: ({ data }) => {
        const e = data.inferenceServiceStatusChanged;
        lags.push(Date.now() - Date.parse(e.at));
        if (e.status === 'RUNNING' && e.readyReplicas === e.replicas && !runningAt.has(e.serviceId)) runningAt.set(e.serviceId, Date.now());
      },
      error: (err) => console.error('subscription error', err),
      complete: () => {},
    },
  );
  await new Promise((r) => setTimeout(r, 300)); // graphql-ws does not acknowledge a subscription

  const createTimes = [];
  const ids = [];
  for (let i = 0; i < CREATES; i++) {
    const t0 = Date.now();
    const res = await fetch(`${base}/api/v1/inference/services`, { method: 'POST', headers: json, body: JSON.stringify({ name: `bench-${i}`, workspace_id: 1, model_id: model.model_id, model_version: 'v1', gpu: 0, replicas: 1 }) });
    const id = (await res.json()).data.service_id;
    ids.push(id);
    while (!runningAt.has(id)) {
      if (Date.now() - t0 > 30_000) throw new Error(`${id} not running after 30 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    createTimes.push(runningAt.get(id) - t0);
    // One service at a time, as a user would: stop it before the next so replicas do not pile up on two cores.
    await fetch(`${base}/api/v1/inference/services/${id}/stop`, { method: 'POST', headers: auth });
  }
  await new Promise((r) => setTimeout(r, 1500));
  await client.dispose();
  return { createTimes, lags };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'rgpu-bench-distributed-'));
  const rows = [];
  try {
    for (const [label, start] of [['in-process bus (npm start)', standalone], ['NATS JetStream (3 processes)', distributed]]) {
      const stack = await start(path.join(dir, label.startsWith('NATS') ? 'nats' : 'local'));
      try {
        rows.push({ label, ...(await measure(stack.base)) });
      } finally {
        await stack.stop();
      }
    }
  } finally {
    await Promise.all(children.map(stop));
    await rm(dir, { recursive: true, force: true });
  }
  const [local, nats] = rows;
  const ratio = (a, b) => (b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
  const lines = [
    `Control plane over NATS vs in-process — ${CREATES} services created one after another (1 real replica each), ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| measure | in-process | NATS | NATS / in-process | target (NATS) | |',
    '|---|---|---|---|---|---|',
  ];
  const row = (name, f, target, ok) => {
    const a = f(local);
    const b = f(nats);
    lines.push(`| ${name} | ${a} ms | ${b} ms | ${ratio(b, a)} | ${target} | ${ok(b) ? 'met' : 'MISSED'} |`);
  };
  row('create → running, p50', (r) => median(r.createTimes), '< 1000 ms', (v) => v < 1000);
  row('create → running, max', (r) => Math.max(...r.createTimes), '', () => true);
  row(`status event → subscriber, p50`, (r) => median(r.lags), '', () => true);
  row(`status event → subscriber, p99`, (r) => percentile(r.lags, 99), '< 50 ms', (v) => v < 50);
  lines.push('', `Events measured: ${local.lags.length} in-process, ${nats.lags.length} over NATS.`);
  console.log(lines.join('\n'));
}

main().catch(async (err) => {
  console.error(`bench failed: ${err.stack ?? err}`);
  await Promise.all(children.map(stop));
  process.exit(1);
});
