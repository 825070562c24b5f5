import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { NATS_URL, tempDir, type TempDir } from '@remotegpu/testkit';

/** The gateway's own entry point (`node services/gateway/dist/main.js`, distributed mode) on runMain. */

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const SECRET = 'gateway-main-secret-0123456789-abcdefghijk';
const STREAM = `RGPU_T_GW${randomBytes(4).toString('hex')}`;

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('rgpu-gateway-main-');
});
afterAll(async () => {
  const nc = await connect({ servers: NATS_URL, timeout: 2_000 }).catch(() => undefined);
  if (nc) {
    await (await nc.jetstreamManager()).streams.delete(STREAM).catch(() => undefined);
    await nc.close();
  }
  await dir?.cleanup();
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('gateway main (distributed mode)', () => {
  it('exits 78 naming NATS_URL, RGPU_ROUTER_URL and RGPU_JWT_SECRET when they are missing, before opening anything', async () => {
    const run = start({ RGPU_DATA_DIR: dir.path, PORT: 'eighty' });
    expect(await run.exited).toBe(78);
    for (const name of ['NATS_URL: required', 'RGPU_ROUTER_URL: required', 'RGPU_JWT_SECRET: required', 'PORT:']) expect(run.err()).toContain(name);
  });

  it('exits 1 naming NATS_URL when no NATS server answers', async () => {
    const run = start({ RGPU_DATA_DIR: dir.path, PORT: '0', NATS_URL: `nats://127.0.0.1:${await closedPort()}`, RGPU_ROUTER_URL: 'http://127.0.0.1:1', RGPU_JWT_SECRET: SECRET });
    expect(await run.exited).toBe(1);
    expect(run.out() + run.err()).toMatch(/NATS_URL/);
  }, 20_000);

  it('serves its probes with NATS and the store up, leaves /inference to the routers, and stops on SIGTERM with exit 0', async () => {
    const run = start({
      RGPU_DATA_DIR: dir.path,
      PORT: '0',
      NATS_URL,
      RGPU_NATS_STREAM: STREAM,
      RGPU_NATS_SUBJECT_PREFIX: `rgput.${STREAM.toLowerCase()}`,
      RGPU_ROUTER_URL: 'http://127.0.0.1:8081',
      RGPU_JWT_SECRET: SECRET,
      RGPU_LOG_LEVEL: 'info',
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${run.out()}${run.err()}`)), 20_000);
      const check = setInterval(() => {
        const m = /"port":(\d+)[^\n]*gateway listening/.exec(run.out());
        if (m) {
          clearInterval(check);
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }, 20);
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/process_cpu_user_seconds_total/);
    // endpoint_url is the router's (RGPU_PUBLIC_URL defaults to RGPU_ROUTER_URL); the gateway does not proxy it.
    expect((await fetch(`${base}/inference/svc-abcdefghijkl/predict`, { method: 'POST' })).status).toBe(404);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.out()).toMatch(/shutting down/);
  }, 30_000);
});
