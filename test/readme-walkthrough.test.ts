import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@remotegpu/testkit';
import { spawnStandalone, type StandaloneProcess } from './support/process.js';

/**
 * Issue 6, point 15: the README's curl walk-through runs as written. The block between the walkthrough markers is
 * executed by bash, unchanged, against a real `npm start` process (no GPU, generated secret in its data dir),
 * with `set -euo pipefail` added so that any failing step fails the test.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function walkthrough(): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- walkthrough:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no walkthrough block between the markers');
  return block[1];
}

let dir: Awaited<ReturnType<typeof tempDir>>;
let platform: StandaloneProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-readme-');
  platform = await spawnStandalone({ RGPU_DATA_DIR: dir.path, RGPU_LOCAL_GPUS: '0' });
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  await Promise.all(['model.onnx', 'red.json'].map((f) => rm(path.join(ROOT, f), { force: true })));
  await dir?.cleanup();
});

describe('README walk-through', () => {
  it('runs as written: register, upload, create, wait, list, detail, predict, stop, start, scale, events, delete', async () => {
    const script = await walkthrough();
    const port = new URL(platform.url).port;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: port, RGPU_DATA_DIR: dir.path },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^created svc-[a-z0-9]{16}$/m);
    expect(out).toMatch(/is running$/m);
    // predict: the red image is classified red, first.
    expect(out).toMatch(/"predictions":\[\{"class":"red","confidence":0\.9\d*/);
    expect(out).toContain('推理服务停止中');
    expect(out).toMatch(/^204$/m);
    expect(out).toMatch(/"code":40400,"message":"Inference service not found/);
  }, 120_000);
});
