import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Issue 6, point 13: one lifecycle for every entry point, exercised on a real child process. */

const FIXTURE = fileURLToPath(new URL('./fixtures/main-fixture.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, signal?: NodeJS.Signals): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (signal && /(ready|starting)\n/.test(stdout)) child.kill(signal);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('runMain', () => {
  it('a bad configuration exits 78 naming every bad variable, before starting anything', async () => {
    const result = await run({ FIXTURE_PORT: 'eighty', FIXTURE_MODE: 'bad' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('FIXTURE_PORT: must be an integer');
    expect(result.stderr).toContain('FIXTURE_MODE: must be good');
    expect(result.stdout).toBe('');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the components in reverse order and exits 0', async (signal) => {
    const result = await run({}, signal);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('ready\nstopped http\nstopped bus\nstopped store\n');
  });

  it('a signal during a slow start stops what is up at once, without waiting for the start', async () => {
    const started = Date.now();
    const result = await run({ FIXTURE_SLOW_START: '1' }, 'SIGTERM');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('starting\nstopped store\n');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a failed start stops what it had started, in reverse, and exits 1', async () => {
    const result = await run({ FIXTURE_FAIL_AFTER: '2' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('stopped bus\nstopped store\n');
  });

  it('a start that finds its configuration unusable exits 78 and says why', async () => {
    const result = await run({ FIXTURE_FAIL_AFTER: '1', FIXTURE_FAIL_CONFIG: '1' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('RGPU_MODEL_PATH: not an ONNX model');
    expect(result.stdout).toBe('stopped store\n');
  });

  it('a stop that hangs past the grace period exits 1', async () => {
    const result = await run({ FIXTURE_HANG: '1' }, 'SIGTERM');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ready\n');
  });
});
