import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '@remotegpu/core';
import { createRuntime } from './runtime.factory.js';

describe('createRuntime(config)', () => {
  it('local: a LocalRuntime with the given GPU capacity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgpu-runtime-factory-'));
    try {
      const runtime = createRuntime({
        kind: 'local',
        local: { modelServer: { command: process.execPath, args: ['-e', ''] }, stateDir: dir, gpus: 2 },
      });
      expect(runtime.kind).toBe('local');
      await runtime.start();
      expect((await runtime.capacity()).gpus).toBe(2);
      await runtime.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kubernetes, not available yet: a ConfigError naming RGPU_RUNTIME', () => {
    let err: unknown;
    try {
      createRuntime({ kind: 'kubernetes' });
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/RGPU_RUNTIME/);
  });
});
