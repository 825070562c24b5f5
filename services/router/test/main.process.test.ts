import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@remotegpu/testkit';

/** The router's own entry point (`node services/router/dist/main.js`) on runMain: config errors, probes, SIGTERM. */

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const SECRET = 'router-main-secret-0123456789-abcdefghijkl';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir('rgpu-router-main-');
});
afterAll(async () => {
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

describe('router main', () => {
  it('exits 78 naming every bad variable at once, before opening anything', async () => {
    const run = start({ ROUTER_PORT: 'eighty', RGPU_JWT_SECRET: 'short', RGPU_DATA_DIR: dir.path });
    expect(await run.exited).toBe(78);
    expect(run.err()).toMatch(/ROUTER_PORT: must be an integer/);
    expect(run.err()).toMatch(/RGPU_JWT_SECRET: must be at least 32 characters/);
  });

  it('serves its probes, then stops on SIGTERM with exit 0', async () => {
    const run = start({ ROUTER_PORT: '0', RGPU_JWT_SECRET: SECRET, RGPU_DATA_DIR: dir.path, RGPU_LOG_LEVEL: 'info' });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`router did not start:\n${run.out()}${run.err()}`)), 20_000);
      const check = setInterval(() => {
        const m = /"port":(\d+)[^\n]*router listening/.exec(run.out());
        if (m) {
          clearInterval(check);
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }, 20);
    });
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.out()).toMatch(/shutting down/);
  });
});
