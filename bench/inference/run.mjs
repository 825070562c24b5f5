// Inference benchmark (issue 3). One run prints, side by side:
//  A. predictions/s and p50/p99 latency at fixed concurrency, on the demo model and on a trivial echo backend,
//     (1) straight to the replica, (2) through our router, (3) through nginx as a reverse proxy (skipped with a
//     notice when nginx is absent), with ratios;
//  F. a flood (issue 6 point 7): BENCH_FLOOD_CLIENTS (400) concurrent clients on 1 replica of the demo model through
//     the router, with its queue budget (default) and without one (the earlier behaviour): admitted-request
//     p50/p99, refusal rate and how fast refusals come;
//  B. create → running time (p50) and status event → GraphQL subscriber latency (p99) on the whole platform.
// Load comes from wrk (C, one thread) when installed, else from a Node keep-alive client (noted in the output).
// Knobs: BENCH_DURATION_S (4), BENCH_ROUNDS (3), BENCH_CONCURRENCY (8), BENCH_CREATES (8), BENCH_FLOOD_CLIENTS (400),
// BENCH_FLOOD_DURATION_S (10), BENCH_PARTS (data,flood,control: which tables to run).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { launchListening, stopChildren as stopAll } from '../lib/children.mjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { openSqliteStore } from '@remotegpu/store';
import { newServiceId } from '@remotegpu/core';
import { signToken } from '@remotegpu/auth';
import { COLOR_LABELS, colorClassifierOnnx, solidImage } from '@remotegpu/testkit';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const CREATES = Number(process.env.BENCH_CREATES ?? 8);
const FLOOD_CLIENTS = Number(process.env.BENCH_FLOOD_CLIENTS ?? 400);
const FLOOD_DURATION_S = Number(process.env.BENCH_FLOOD_DURATION_S ?? 10);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'data,flood,control').split(',').map((part) => part.trim()));
/** A queue budget no request reaches: the router as it was before admission had deadlines (256-deep queue only). */
const NO_QUEUE_BUDGET_MS = 3_600_000;
const SLOW_SERVICE_MS = 50;
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const children = [];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const which = (cmd) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`]).toString().trim() || null;
  } catch {
    return null;
  }
};

/** Starts a process that prints a `{"event":"listening","port":N}` line; resolves with its port. */
const launch = (command, args, env = {}) => launchListening(children, command, args, env);

async function startNginx(dir, upstreams) {
  const nginx = which('nginx') ?? (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  if (!nginx) return null;
  const ports = {};
  const servers = [];
  for (const [name, port] of Object.entries(upstreams)) {
    const probe = http.createServer();
    await new Promise((r) => probe.listen(0, '127.0.0.1', r));
    ports[name] = probe.address().port;
    await new Promise((r) => probe.close(r));
    servers.push(`
    upstream ${name} { server 127.0.0.1:${port}; keepalive 64; }
    server {
      listen 127.0.0.1:${ports[name]};
      location / {
        proxy_pass http://${name};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering on;
        proxy_set_header Authorization "";
      }
    }`);
  }
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  client_max_body_size 10m;
  keepalive_requests 100000;
  ${servers.join('\n')}
}`;
  await writeFile(path.join(dir, 'nginx.conf'), conf);
  const child = spawn(nginx, ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'inherit' });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const up = await Promise.all(Object.values(ports).map((p) => get(`http://127.0.0.1:${p}/`).then(() => true, () => false)));
    if (up.every(Boolean)) return { ports, version: spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim() };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start');
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    }).once('error', reject);
  });
}

function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.once('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

const UNITS = { us: 1e-3, ms: 1, s: 1000 };
const toMs = (text) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]] : NaN;
};

async function wrkRun(dir, url, body, headers, seconds = DURATION_S, connections = CONCURRENCY) {
  const script = path.join(dir, `req-${Math.random().toString(36).slice(2)}.lua`);
  const lua = [`wrk.method = "POST"`, `wrk.body = ${JSON.stringify(body)}`, `wrk.headers["Content-Type"] = "application/json"`];
  for (const [k, v] of Object.entries(headers)) lua.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  // Count answers that are not 200 (wrk's own "Non-2xx" line misses nothing, but this keeps it explicit).
  await writeFile(script, `${lua.join('\n')}\n`);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)[1]);
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(out)?.[1] ?? null;
  return { rps, p50, p99, errors: non2xx, socketErrors };
}

async function nodeRun(url, body, headers, seconds = DURATION_S, connections = CONCURRENCY) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const times = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
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
  return { rps: times.length / ((Date.now() - t0) / 1000), p50: percentile(times, 50), p99: percentile(times, 99), errors };
}

async function dataPlaneTable(dir, model) {
  const load = which('wrk') ? (url, body, headers, seconds, connections) => wrkRun(dir, url, body, headers, seconds, connections) : nodeRun;
  const loadName = which('wrk') ? `wrk (1 thread, ${CONCURRENCY} connections)` : `a Node keep-alive client (${CONCURRENCY} concurrent; wrk not installed)`;

  const modelPath = path.join(dir, 'colours.onnx');
  await writeFile(modelPath, colorClassifierOnnx({ height: 32, width: 32 }));
  const serviceIds = { demo: newServiceId(), echo: newServiceId() };
  const replica = await launch(process.execPath, [path.join(ROOT, 'services/model-server/dist/main.js')], {
    RGPU_MODEL_PATH: modelPath, RGPU_MODEL_NAME: serviceIds.demo, RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: JSON.stringify(COLOR_LABELS),
    RGPU_EXIT_ON_STDIN_CLOSE: '1', RGPU_LOG_LEVEL: 'warn', CUDA_VISIBLE_DEVICES: '',
  });
  const echo = await launch(process.execPath, [path.join(HERE, 'echo-server.mjs')]);
  const backends = { demo: `http://127.0.0.1:${replica.port}`, echo: `http://127.0.0.1:${echo.port}` };
  // For the flood: a replica stand-in that serves one request at a time, 50 ms each (20 req/s).
  const slow = PARTS.has('flood') ? await launch(process.execPath, [path.join(HERE, 'echo-server.mjs'), String(SLOW_SERVICE_MS)]) : null;
  if (slow) {
    serviceIds.slow = newServiceId();
    backends.slow = `http://127.0.0.1:${slow.port}`;
  }

  const dbPath = path.join(dir, 'router.db');
  const store = openSqliteStore({ path: dbPath });
  const at = new Date().toISOString();
  for (const [name, id] of Object.entries(serviceIds)) {
    await store.services.create({
      id, workspaceId: 1, name, description: '', modelId: 1, modelVersion: 'v1', framework: 'onnx', cpu: 1, memory: 2 ** 30, gpu: 0, replicas: 1,
      desiredState: 'running', status: 'running', statusReason: null, statusMessage: null, readyReplicas: 1,
      endpoints: [{ replicaId: `${name}-0`, url: backends[name] }], generation: 1, observedGeneration: 1, createdAt: at, updatedAt: at, deletedAt: null,
    });
  }
  await store.close();
  const router = await launch(process.execPath, [path.join(HERE, 'router-host.mjs'), dbPath, SECRET]);
  const nginx = await startNginx(dir, { demo: replica.port, echo: echo.port });

  const token = await signToken(SECRET, { sub: 'bench', workspaces: [1], ttlSeconds: 3600 });
  const image = (await solidImage('red', { format: 'png', width: 64, height: 48 })).toString('base64');
  const body = JSON.stringify({ inputs: { image }, parameters: { top_k: 3 } });
  // Sanity: every path answers the same prediction before anything is timed.
  const targets = (name) => [
    ['direct to replica', `${backends[name]}/predict`, {}],
    ['through our router', `http://127.0.0.1:${router.port}/inference/${serviceIds[name]}/predict`, { authorization: `Bearer ${token}` }],
    ...(nginx ? [['through nginx', `http://127.0.0.1:${nginx.ports[name]}/predict`, {}]] : []),
  ];
  for (const name of ['demo', 'echo']) {
    for (const [label, url, headers] of targets(name)) {
      console.error(`checking ${name} ${label} ${url}`);
      const res = await post(url, body, headers);
      if (res.status !== 200 || !res.body.includes('"red"')) throw new Error(`${name} ${label}: ${res.status} ${res.body}`);
    }
  }

  const lines = [];
  if (PARTS.has('data')) lines.push(...(await throughputTables({ load, loadName, targets, body, nginx })));
  if (PARTS.has('flood')) {
    if (lines.length) lines.push('');
    lines.push(...(await floodTable({ dbPath, serviceIds, token, body })));
  }
  for (const c of [replica.child, echo.child, router.child, slow?.child]) c?.stdin.end();
  return lines;
}

async function throughputTables({ load, loadName, targets, body, nginx }) {
  // Warm-up, not recorded: JIT, keep-alive pools and the token cache reach steady state before timing.
  for (const name of ['demo', 'echo']) for (const [, url, headers] of targets(name)) await load(url, body, headers, 1);
  const results = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['demo', 'echo']) {
      for (const [label, url, headers] of targets(name)) {
        console.error(`round ${round + 1}: ${name} ${label}`);
        const r = await load(url, body, headers);
        ((results[name] ??= {})[label] ??= []).push(r);
      }
    }
  }
  // One request at a time: the proxy's own added latency, without the CPU it takes from a busy replica.
  const serial = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, url, headers] of targets('demo')) (serial[label] ??= []).push(await load(url, body, headers, DURATION_S, 1));
  }
  const m = (name, label, key) => median(results[name][label].map((r) => r[key]));
  const ms = (label, key) => median(serial[label].map((r) => r[key]));
  const errors = (name, label) => results[name][label].reduce((n, r) => n + r.errors, 0);

  const lines = [];
  lines.push(`Data plane — POST /predict with a 64×48 PNG, load from ${loadName}, ${DURATION_S} s per cell, median of ${ROUNDS} rounds, ${os.cpus().length} cores${nginx ? `, ${nginx.version}` : ''}`);
  if (!nginx) lines.push('NOTICE: nginx is not installed (apt-get install nginx-light): the nginx rows are skipped.');
  lines.push('');
  lines.push('| backend | path | req/s | p50 ms | p99 ms | errors | req/s vs nginx | added p50 vs direct |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const name of ['demo', 'echo']) {
    const backendLabel = name === 'demo' ? 'demo model (ONNX 32×32)' : 'echo backend';
    for (const [label] of targets(name)) {
      const rps = m(name, label, 'rps');
      const vsNginx = nginx ? `${(rps / m(name, 'through nginx', 'rps')).toFixed(2)}×` : 'n/a';
      const added = m(name, label, 'p50') - m(name, 'direct to replica', 'p50');
      lines.push(`| ${backendLabel} | ${label} | ${rps.toFixed(0)} | ${m(name, label, 'p50').toFixed(3)} | ${m(name, label, 'p99').toFixed(3)} | ${errors(name, label)} | ${vsNginx} | ${label.startsWith('direct') ? '—' : `${added >= 0 ? '+' : ''}${added.toFixed(3)} ms`} |`);
    }
  }
  lines.push('');
  lines.push('Demo model, concurrency 1 (one request at a time):');
  lines.push('');
  lines.push('| path | req/s | p50 ms | p99 ms | added p50 vs direct |');
  lines.push('|---|---|---|---|---|');
  for (const [label] of targets('demo')) {
    const added = ms(label, 'p50') - ms('direct to replica', 'p50');
    lines.push(`| ${label} | ${ms(label, 'rps').toFixed(0)} | ${ms(label, 'p50').toFixed(3)} | ${ms(label, 'p99').toFixed(3)} | ${label.startsWith('direct') ? '—' : `${added >= 0 ? '+' : ''}${added.toFixed(3)} ms`} |`);
  }
  const added1 = ms('through our router', 'p50') - ms('direct to replica', 'p50');
  const added8 = m('demo', 'through our router', 'p50') - m('demo', 'direct to replica', 'p50');
  lines.push('');
  if (nginx) {
    const ratio = m('demo', 'through our router', 'rps') / m('demo', 'through nginx', 'rps');
    lines.push(`Target (demo model, ${CONCURRENCY} connections): router ≥ 0.9× nginx throughput → ${ratio.toFixed(2)}× ${ratio >= 0.9 ? 'met' : 'MISSED'}`);
  }
  lines.push(`Target (demo model): router adds ≤ 0.5 ms p50 over direct → ${added1.toFixed(3)} ms at concurrency 1 ${added1 <= 0.5 ? 'met' : 'MISSED'}; ${added8.toFixed(3)} ms at ${CONCURRENCY} connections ${added8 <= 0.5 ? 'met' : 'MISSED'} (there the router's CPU is taken from the replica's on 2 cores)`);
  return lines;
}

/**
 * `clients` closed-loop clients for `seconds`, each on its own keep-alive connection. A refused client waits the
 * Retry-After it was given (at least 1 s), as well-behaved SDK clients do, then tries again.
 */
async function flood(url, body, headers, clients, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const admitted = [];
  const refused = [];
  const retryAfter = [];
  let failed = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const res = await new Promise((resolve) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (r) => {
            r.resume();
            r.once('end', () => resolve({ status: r.statusCode, retryAfter: Number(r.headers['retry-after']) }));
          });
          req.once('error', () => resolve({ status: 0 }));
          req.end(body);
        });
        const ms = performance.now() - t0;
        if (res.status === 200) admitted.push(ms);
        else if (res.status === 429 || res.status === 503) {
          refused.push(ms);
          const waitS = Math.max(1, res.retryAfter || 1);
          retryAfter.push(waitS);
          await new Promise((r) => setTimeout(r, Math.max(0, Math.min(waitS * 1000, deadline - Date.now()))));
        } else failed++;
      }
    }),
  );
  agent.destroy();
  return { admitted, refused, retryAfter, failed, seconds: (Date.now() - started) / 1000 };
}

async function floodTable({ dbPath, serviceIds, token, body }) {
  const headers = { authorization: `Bearer ${token}` };
  const routers = [
    ['queue budget 3 s (default)', await launch(process.execPath, [path.join(HERE, 'router-host.mjs'), dbPath, SECRET])],
    ['no queue budget (before)', await launch(process.execPath, [path.join(HERE, 'router-host.mjs'), dbPath, SECRET, String(NO_QUEUE_BUDGET_MS)])],
  ];
  const replicas = [
    ['demo model', serviceIds.demo],
    [`one request at a time, ${SLOW_SERVICE_MS} ms each`, serviceIds.slow],
  ];
  const cells = [];
  for (const [replicaLabel, serviceId] of replicas) {
    for (const [routerLabel, router] of routers) cells.push([replicaLabel, routerLabel, `http://127.0.0.1:${router.port}/inference/${serviceId}/predict`]);
  }
  // Warm-up at the usual concurrency: the router learns the replica's service time, JIT and pools settle.
  for (const [, , url] of cells) await nodeRun(url, body, headers, 1, CONCURRENCY);
  const runs = new Map(cells.map((cell) => [cell, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const cell of cells) {
      console.error(`flood round ${round + 1}: ${cell[0]}, ${cell[1]}`);
      const r = await flood(cell[2], body, headers, FLOOD_CLIENTS, FLOOD_DURATION_S);
      const total = r.admitted.length + r.refused.length + r.failed;
      runs.get(cell).push({
        admitted: r.admitted.length,
        rps: r.admitted.length / r.seconds,
        p50: percentile(r.admitted, 50),
        p99: percentile(r.admitted, 99),
        max: Math.max(...r.admitted),
        over5s: r.admitted.filter((ms) => ms > 5000).length,
        refusedShare: r.refused.length / total,
        refusalP50: r.refused.length ? percentile(r.refused, 50) : NaN,
        refusalP99: r.refused.length ? percentile(r.refused, 99) : NaN,
        retryAfter: r.retryAfter.length ? median(r.retryAfter) : NaN,
        failed: r.failed,
      });
      // Let what is still queued drain before the next cell.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  for (const [, router] of routers) router.child.stdin.end();
  const f = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
  const lines = [];
  lines.push(`Flood — ${FLOOD_CLIENTS} concurrent clients (Node keep-alive, one connection each; a refused client waits its Retry-After, then retries) on 1 replica through the router, ${FLOOD_DURATION_S} s per cell, median of ${ROUNDS} rounds`);
  lines.push('');
  lines.push('| replica | router | admitted req/s | admitted p50 ms | admitted p99 ms | admitted max ms | admitted > 5 s | refused (429) | refusal p50 ms | refusal p99 ms | Retry-After s | errors |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const cell of cells) {
    const m = (key) => median(runs.get(cell).map((r) => r[key]));
    lines.push(
      `| ${cell[0]} | ${cell[1]} | ${f(m('rps'))} | ${f(m('p50'))} | ${f(m('p99'))} | ${f(m('max'))} | ${f(m('over5s'))} of ${f(m('admitted'))} | ${f(100 * m('refusedShare'), 1)} % | ${f(m('refusalP50'), 1)} | ${f(m('refusalP99'), 1)} | ${f(m('retryAfter'))} | ${f(m('failed'))} |`,
    );
  }
  return lines;
}

async function controlPlaneTable(dir) {
  const dataDir = path.join(dir, 'platform');
  const probe = http.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const platform = spawn(process.execPath, [path.join(ROOT, 'services/standalone/dist/main.js')], {
    env: { ...process.env, PORT: String(port), RGPU_DATA_DIR: dataDir, RGPU_JWT_SECRET: SECRET, RGPU_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(platform);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await get(`${base}/readyz`).catch(() => 0)) === 200) break;
    if (i > 300) throw new Error('platform did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const token = await signToken(SECRET, { sub: 'bench', workspaces: [1], ttlSeconds: 3600 });
  const auth = { authorization: `Bearer ${token}` };
  const model = JSON.parse((await post(`${base}/api/v1/models`, JSON.stringify({ name: 'colours', workspace_id: 1, framework: 'onnx' }), auth)).body).data;
  const form = new FormData();
  form.set('version', 'v1');
  form.set('labels', JSON.stringify(COLOR_LABELS));
  form.set('file', new Blob([colorClassifierOnnx()]), 'colours.onnx');
  const up = await fetch(`${base}/api/v1/models/${model.model_id}/versions`, { method: 'POST', headers: auth, body: form });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);

  // Every status event of workspace 1, timestamped on arrival.
  const lags = [];
  const runningAt = new Map();
  const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: auth, lazy: false });
  let subscribed;
  const ready = new Promise((r) => (subscribed = r));
  client.subscribe(
    { query: 'subscription { inferenceServiceStatusChanged(workspaceId: 1) { serviceId status readyReplicas replicas at } }' },
    {
      next: ({ data }) => {
        const e = data.inferenceServiceStatusChanged;
        lags.push(Date.now() - Date.parse(e.at));
        if (e.serviceId === 'probe') return subscribed();
        if (e.status === 'RUNNING' && e.readyReplicas === e.replicas && !runningAt.has(e.serviceId)) runningAt.set(e.serviceId, Date.now());
      },
      error: (err) => console.error('subscription error', err),
      complete: () => {},
    },
  );
  await new Promise((r) => setTimeout(r, 300)); // the socket connects; graphql-ws has no "subscribed" ack
  subscribed();
  await ready;

  const createTimes = [];
  const ids = [];
  for (let i = 0; i < CREATES; i++) {
    const t0 = Date.now();
    const res = await post(`${base}/api/v1/inference/services`, JSON.stringify({ name: `bench-${i}`, workspace_id: 1, model_id: model.model_id, model_version: 'v1', replicas: 1 }), auth);
    const id = JSON.parse(res.body).data.service_id;
    ids.push(id);
    while (!runningAt.has(id)) {
      if (Date.now() - t0 > 30_000) throw new Error(`${id} not running after 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    createTimes.push(runningAt.get(id) - t0);
  }
  for (const id of ids) await post(`${base}/api/v1/inference/services/${id}/stop`, '', auth);
  await new Promise((r) => setTimeout(r, 1500));
  await client.dispose();
  platform.kill('SIGTERM');
  await new Promise((r) => platform.once('exit', r));

  const createP50 = median(createTimes);
  const lagP99 = percentile(lags, 99);
  return [
    `Control plane — whole standalone platform (real model-server replicas), ${CREATES} services created one after another, replicas 1`,
    '',
    '| measure | value | target | |',
    '|---|---|---|---|',
    `| create → running (POST until the RUNNING event), p50 | ${createP50} ms (min ${Math.min(...createTimes)}, max ${Math.max(...createTimes)}) | < 2000 ms | ${createP50 < 2000 ? 'met' : 'MISSED'} |`,
    `| status event → GraphQL subscriber, p99 over ${lags.length} events (p50 ${percentile(lags, 50)} ms) | ${lagP99} ms | < 50 ms | ${lagP99 < 50 ? 'met' : 'MISSED'} |`,
  ];
}

const stopChildren = () => stopAll(children);

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rgpu-bench-inf-'));
  try {
    const a = PARTS.has('data') || PARTS.has('flood') ? await dataPlaneTable(dir) : [];
    const b = PARTS.has('control') ? await controlPlaneTable(dir) : [];
    console.log(`\n${[a, b].filter((t) => t.length).map((t) => t.join('\n')).join('\n\n')}\n`);
  } finally {
    await stopChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch(async (err) => {
  console.error(err);
  await stopChildren();
  process.exit(1);
});
