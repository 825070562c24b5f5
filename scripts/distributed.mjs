#!/usr/bin/env node
// `npm run start:distributed`: the platform as three processes on this machine — provisioner, router and gateway,
// each `node services/<name>/dist/main.js` — connected only through NATS JetStream (NATS_URL, default
// nats://127.0.0.1:4222) and the SQLite file in RGPU_DATA_DIR (default ./data). Their logs are prefixed with their
// name; SIGINT (Ctrl-C) or SIGTERM stops all three (gateway and router first, the provisioner and its replicas
// last) and exits when they are gone. If one of them dies, the others are stopped too and this exits 1.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../services/gateway/dist/index.js';
import { loadOrCreateSecret } from '../services/standalone/dist/secret.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const natsUrl = env.NATS_URL || 'nats://127.0.0.1:4222';
const dataDir = path.resolve(env.RGPU_DATA_DIR || './data');
const host = env.HOST || '127.0.0.1';
const STOP_GRACE_MS = 30_000;
const color = process.stdout.isTTY ? { gateway: 36, router: 35, provisioner: 33, launcher: 32 } : null;

function say(name, text) {
  const label = `[${name}]`.padEnd(14);
  process.stdout.write(`${color ? `\x1b[${color[name]}m${label}\x1b[0m` : label}${text}\n`);
}

/** A clear word before three processes each fail on their own: is anything listening at NATS_URL? */
async function natsReachable(url) {
  const first = new URL(url.split(',')[0].trim());
  return new Promise((resolve) => {
    const socket = connect({ host: first.hostname, port: Number(first.port || 4222) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

if (!(await natsReachable(natsUrl))) {
  say('launcher', `nothing answers at NATS_URL=${natsUrl}. Start a NATS server with JetStream first:`);
  say('launcher', '  apt-get install nats-server && nats-server -js      (or set NATS_URL)');
  process.exit(1);
}

// The same secret as `npm start` (generated once into the data dir), so `npm run token` and existing tokens work.
const secret = env.RGPU_JWT_SECRET || (await loadOrCreateSecret(dataDir)).secret;
const shared = { ...env, NATS_URL: natsUrl, RGPU_DATA_DIR: dataDir, RGPU_JWT_SECRET: secret, HOST: host };

/** @type {{ name: string, child: import('node:child_process').ChildProcess, exited: Promise<number | null>, url?: string }[]} */
const running = [];
let stopping = false;

function start(name, extraEnv) {
  const child = spawn(process.execPath, [path.join(root, 'services', name, 'dist', 'main.js')], {
    env: { ...shared, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ? null : code)));
  const entry = { name, child, exited };
  running.push(entry);
  let resolveListening;
  let rejectListening;
  const listening = new Promise((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.on('data', (chunk) => {
      pending += chunk.toString();
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        say(name, line);
        const port = /"port":(\d+)[^\n]*listening"/.exec(line)?.[1];
        if (port) resolveListening(Number(port));
      }
    });
  }
  void exited.then((code) => {
    rejectListening(new Error(`${name} exited with ${code ?? 'a signal'} before it listened`));
    if (!stopping) {
      say('launcher', `${name} exited (${code ?? 'killed by a signal'}); stopping the others`);
      void stopAll(1);
    }
  });
  return listening;
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  const stop = async (names) => {
    await Promise.all(
      running
        .filter((entry) => names.includes(entry.name))
        .map(async (entry) => {
          if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGTERM');
          const timer = setTimeout(() => {
            say('launcher', `${entry.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
            entry.child.kill('SIGKILL');
          }, STOP_GRACE_MS);
          const code = await entry.exited;
          clearTimeout(timer);
          if (code !== 0 && code !== null) exitCode = 1;
        }),
    );
  };
  // Traffic first, then the control loop, which stops the replicas it runs.
  await stop(['gateway', 'router']);
  await stop(['provisioner']);
  say('launcher', 'stopped');
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stopAll(0));

try {
  const provisionerPort = await start('provisioner', { PROVISIONER_PORT: env.PROVISIONER_PORT || '8082' });
  const routerPort = await start('router', { ROUTER_PORT: env.ROUTER_PORT || '8081' });
  const routerUrl = env.RGPU_ROUTER_URL || `http://${host}:${routerPort}`;
  // Replica logs are read from the provisioner (its internal endpoint, logs tokens from the shared secret).
  const gatewayPort = await start('gateway', {
    PORT: env.PORT || '8080',
    RGPU_ROUTER_URL: routerUrl,
    RGPU_PROVISIONER_URLS: env.RGPU_PROVISIONER_URLS || `http://${host}:${provisionerPort}`,
  });
  const gatewayUrl = `http://${host}:${gatewayPort}`;
  const adminToken = await signToken(secret, { sub: 'admin', admin: true, ttlSeconds: 30 * 86400 });
  process.stdout.write(
    `\nRemoteGPU Inference is running as three processes over NATS (${natsUrl}), data in ${dataDir}\n` +
      `  gateway      ${gatewayUrl}   REST /api/v1, GraphQL and subscriptions /graphql\n` +
      `  router       ${routerUrl}   data plane: every endpoint_url is ${env.RGPU_PUBLIC_URL || routerUrl}/inference/<id>\n` +
      `  provisioner  http://${host}:${provisionerPort}   /healthz /readyz /metrics (replicas run as its children)\n` +
      `Admin token (valid 30 days; more with \`npm run token\`):\n\n  ${adminToken}\n\n` +
      `Try: curl -H "Authorization: Bearer <token>" ${gatewayUrl}/api/v1/inference/services\n` +
      `Ctrl-C stops all three.\n\n`,
  );
} catch (err) {
  if (!stopping) {
    say('launcher', err instanceof Error ? err.message : String(err));
    await stopAll(1);
  }
}
