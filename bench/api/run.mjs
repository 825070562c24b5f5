// API benchmark (issue 2): 10,000 services in the store; list/detail latency and create throughput
// through the real HTTP stack of the standalone process, against GET /healthz on the same server (the
// HTTP floor: same Node process, same Express app, no auth, no store). Prints one table, medians of
// ROUNDS rounds. Usage: npm run bench   (BENCH_SERVICES, BENCH_ROUNDS, BENCH_REQUESTS to change sizes)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMongoStore, openSqliteStore } from '@remotegpu/store';
import { newServiceId } from '@remotegpu/core';
import { signToken } from '@remotegpu/gateway';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { connect as connectNats } from 'nats';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const CREATES = Number(process.env.BENCH_CREATES ?? 2000);
const CREATE_CONCURRENCY = 8;
// The MongoDB column (issue 9): only against a real server. Numbers over the wire double would measure the double.
const MONGODB_URI = process.env.MONGODB_URI;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const WORKSPACES = 10;
// Seeded services are stopped (desired and observed): the platform's provisioner then has nothing to start
// for them at boot, so the benchmark measures the API, not 10,000 replica launches.
const STATUSES = ['stopped'];

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function seed(store) {
  const at = new Date().toISOString();
  const models = [];
  for (let w = 1; w <= WORKSPACES; w++) {
    const model = await store.models.create({ workspaceId: w, name: `m${w}`, framework: 'onnx', task: 'image-classification', description: '', createdAt: at, updatedAt: at });
    await store.models.addVersion({
      modelId: model.id, version: 'v1', format: 'onnx', artifactPath: '/dev/null', source: 'upload', sizeBytes: 1, sha256: '0'.repeat(64),
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32] }], outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 3] }],
      labels: ['red', 'green', 'blue'], preprocessing: null, createdAt: at,
    });
    models.push(model.id);
  }
  const ids = [];
  const base = Date.now() - SERVICES * 1000;
  for (let i = 0; i < SERVICES; i++) {
    const w = (i % WORKSPACES) + 1;
    const t = new Date(base + i * 1000).toISOString();
    const id = newServiceId();
    ids.push(id);
    await store.services.create({
      id, workspaceId: w, name: `svc bench ${i}`, description: 'bench', modelId: models[w - 1], modelVersion: 'v1', framework: 'onnx',
      cpu: 1, memory: 2 ** 31, gpu: 0, replicas: 1, desiredState: 'stopped', status: STATUSES[i % STATUSES.length],
      statusReason: null, statusMessage: null, readyReplicas: 0, endpoints: [], generation: 1, observedGeneration: 0, createdAt: t, updatedAt: t, deletedAt: null,
    });
  }
  return { ids, models };
}

async function freePort() {
  const probe = http.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function startServer(dataDir, main = 'services/standalone/dist/main.js', extraEnv = {}, portVariable = 'PORT') {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, main)], {
    env: { PATH: process.env.PATH, [portVariable]: String(port), RGPU_DATA_DIR: dataDir, RGPU_JWT_SECRET: SECRET, RGPU_LOG_LEVEL: 'warn', RGPU_LOCAL_GPUS: '0', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const status = await send(undefined, `${url}/healthz`).catch(() => 0);
    if (status === 200) return { child, url };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start in 60 s');
}

/** One HTTP request over a keep-alive agent; resolves with the status code once the body is read. */
function send(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function timeSequential(agent, url, paths, headers) {
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const p = paths[i % paths.length];
    const t0 = process.hrtime.bigint();
    const status = await send(agent, url + p, { headers });
    if (status !== 200) throw new Error(`${p} → ${status}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function createThroughput(agent, url, token, models, round) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < CREATES) {
        const i = next++;
        const w = (i % WORKSPACES) + 1;
        const status = await send(agent, `${url}/api/v1/inference/services`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          // gpu: 1 on a server with RGPU_LOCAL_GPUS=0: the provisioner reconciles each new service to `failed` at once
          // (gpu_request_exceeds_capacity) instead of launching 2,000 replicas: the control plane's whole write path, no processes.
          body: JSON.stringify({ name: `created ${round}-${i}`, workspace_id: w, model_id: models[w - 1], model_version: 'v1', gpu: 1 }),
        });
        if (status !== 201) throw new Error(`create → ${status}`);
      }
    }),
  );
  return CREATES / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** The four latency rows and the create rate over ROUNDS rounds against one running server. */
async function measure(server, ids, models) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const token = await signToken(SECRET, { sub: 'bench', workspaces: Array.from({ length: WORKSPACES }, (_, i) => i + 1), ttlSeconds: 3600 });
  const headers = { authorization: `Bearer ${token}` };
  const pages = Math.ceil(SERVICES / 20);
  const listPaths = Array.from({ length: 50 }, (_, i) => `/api/v1/inference/services?page=${1 + ((i * 37) % pages)}&page_size=20`);
  const filteredPaths = Array.from({ length: 50 }, (_, i) =>
    `/api/v1/inference/services?workspace_id=${1 + (i % WORKSPACES)}&status=stopped&name=bench%20${i}&page=1&page_size=20`);
  const detailPaths = Array.from({ length: 200 }, (_, i) => `/api/v1/inference/services/${ids[(i * 7919) % ids.length]}`);

  await timeSequential(agent, server.url, listPaths, headers); // warm-up
  const rows = { health: [], list: [], filtered: [], detail: [], create: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.health.push(await timeSequential(agent, server.url, ['/healthz'], {}));
    rows.list.push(await timeSequential(agent, server.url, listPaths, headers));
    rows.filtered.push(await timeSequential(agent, server.url, filteredPaths, headers));
    rows.detail.push(await timeSequential(agent, server.url, detailPaths, headers));
    rows.create.push(await createThroughput(agent, server.url, token, models, r));
  }
  agent.destroy();
  const m = (key, field) => median(rows[key].map((x) => x[field]));
  return {
    floor: { p50: m('health', 'p50'), p99: m('health', 'p99') },
    list: { p50: m('list', 'p50'), p99: m('list', 'p99') },
    filtered: { p50: m('filtered', 'p50'), p99: m('filtered', 'p99') },
    detail: { p50: m('detail', 'p50'), p99: m('detail', 'p99') },
    createRate: median(rows.create),
  };
}

const fmt = (x) => x.toFixed(2);

function printSqlite(result) {
  const { floor } = result;
  const line = (name, key, target) => {
    const { p50, p99 } = result[key];
    return `| ${name} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(p50 / floor.p50)}× | ${fmt(p99 / floor.p99)}× | ${target} | ${p99 < 20 ? 'met' : 'MISSED'} |`;
  };
  console.log(`\nAPI benchmark — ${SERVICES} services, ${REQUESTS} sequential requests per row per round, median of ${ROUNDS} rounds, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})\n`);
  console.log('| operation | p50 ms | p99 ms | p50 vs /healthz | p99 vs /healthz | target | |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| GET /healthz (HTTP floor, baseline) | ${fmt(floor.p50)} | ${fmt(floor.p99)} | 1.00× | 1.00× | — | |`);
  console.log(line('list page (page_size 20)', 'list', 'p99 < 20 ms'));
  console.log(line('filtered list (workspace+status+name)', 'filtered', 'p99 < 20 ms'));
  console.log(line('detail', 'detail', 'p99 < 20 ms'));
  console.log(`\n| create throughput (${CREATE_CONCURRENCY} concurrent clients, ${CREATES} creates) | ${result.createRate.toFixed(0)} /s | target ≥ 500/s | ${result.createRate >= 500 ? 'met' : 'MISSED'} |`);
}

function printBoth(sqlite, mongo, where) {
  console.log(`\nSQLite vs MongoDB (${where}) — same seed, same requests; each column against its own /healthz floor\n`);
  console.log('| operation | SQLite p50 ms | SQLite p99 ms | MongoDB p50 ms | MongoDB p99 ms | MongoDB p99 vs its /healthz |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, key] of [['GET /healthz (floor)', 'floor'], ['list page (page_size 20)', 'list'], ['filtered list (workspace+status+name)', 'filtered'], ['detail', 'detail']]) {
    console.log(`| ${name} | ${fmt(sqlite[key].p50)} | ${fmt(sqlite[key].p99)} | ${fmt(mongo[key].p50)} | ${fmt(mongo[key].p99)} | ${fmt(mongo[key].p99 / mongo.floor.p99)}× |`);
  }
  console.log(`| create throughput (${CREATE_CONCURRENCY} concurrent clients) | ${sqlite.createRate.toFixed(0)} /s | | ${mongo.createRate.toFixed(0)} /s | | |`);
}

/** `mongodb://host/db?opts` with the database replaced. */
function databaseUrl(base, name) {
  const [head, query] = base.split('?');
  return `${head.replace(/^(mongodb(?:\+srv)?:\/\/[^/]+).*$/, '$1')}/${name}${query ? `?${query}` : ''}`;
}

/**
 * The MongoDB column: the gateway and provisioner as separate processes (npm start keeps SQLite) on a fresh
 * database of the server MONGODB_URI names, over NATS with their own stream. Nothing when the URI points at the
 * testkit's wire double: its numbers would describe the double, not MongoDB.
 */
async function runMongo(dataDir) {
  const run = randomBytes(4).toString('hex');
  const url = databaseUrl(MONGODB_URI, `rgpu_bench_${run}`);
  const store = await openMongoStore({ url });
  const build = await store.connection.db.admin().command({ buildInfo: 1 });
  if (build.gitVersion === 'remotegpu-testkit-mongo-double') {
    await store.close();
    console.log('\nMongoDB column: MONGODB_URI points at the testkit wire double, not a MongoDB server: no numbers printed (they would measure the double).');
    return undefined;
  }
  const env = {
    NATS_URL, RGPU_STORE_URL: url, RGPU_NATS_STREAM: `RGPU_BENCH_${run}`, RGPU_NATS_SUBJECT_PREFIX: `rgpubench.${run}`,
    PROVISIONER_LEASE_BUCKET: `rgpu_bench_lease_${run}`, RGPU_ROUTER_URL: 'http://127.0.0.1:9',
  };
  const servers = [];
  try {
    const t0 = Date.now();
    const { ids, models } = await seed(store);
    console.error(`seeded ${SERVICES} services into MongoDB ${build.version} in ${Date.now() - t0} ms`);
    servers.push(await startServer(dataDir, 'services/provisioner/dist/main.js', env, 'PROVISIONER_PORT'));
    servers.push(await startServer(dataDir, 'services/gateway/dist/main.js', env));
    return { result: await measure(servers[1], ids, models), version: build.version };
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await store.connection.db.dropDatabase().catch(() => undefined);
    await store.close();
    const nc = await connectNats({ servers: NATS_URL, timeout: 2_000 }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(env.RGPU_NATS_STREAM).catch(() => undefined);
      await jsm.streams.delete(`KV_${env.PROVISIONER_LEASE_BUCKET}`).catch(() => undefined);
      await nc.close();
    }
  }
}

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rgpu-bench-'));
  let server;
  try {
    const t0 = Date.now();
    const sqliteStore = openSqliteStore({ path: path.join(dataDir, 'rgpu.db') });
    const { ids, models } = await seed(sqliteStore);
    await sqliteStore.close();
    console.error(`seeded ${SERVICES} services in ${Date.now() - t0} ms`);
    server = await startServer(dataDir);
    const sqlite = await measure(server, ids, models);
    server.child.kill('SIGTERM');
    printSqlite(sqlite);
    if (!MONGODB_URI) {
      console.log('\nMongoDB column: MONGODB_URI is not set, so no MongoDB numbers (set it to a real server, e.g. mongodb://127.0.0.1:27017; never the test double).');
      return;
    }
    const mongoDir = await mkdtemp(path.join(os.tmpdir(), 'rgpu-bench-mongo-'));
    try {
      const mongo = await runMongo(mongoDir);
      if (mongo) printBoth(sqlite, mongo.result, `MongoDB ${mongo.version}, gateway + provisioner processes over NATS`);
    } finally {
      await rm(mongoDir, { recursive: true, force: true });
    }
  } finally {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
