import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

  it('kubernetes: a KubernetesRuntime, which reaches for the cluster only when started', async () => {
    const runtime = createRuntime({
      kind: 'kubernetes',
      kubernetes: { kubeconfig: { kind: 'file', path: '/nonexistent/kubeconfig' }, namespace: 'rgpu', image: 'remotegpu:test' },
    });
    expect(runtime.kind).toBe('kubernetes');
    await expect(runtime.start()).rejects.toThrow(/kubeconfig|ENOENT/);
  });

  it('kubernetes: options are checked when the runtime is made', () => {
    expect(() =>
      createRuntime({ kind: 'kubernetes', kubernetes: { kubeconfig: { kind: 'in-cluster' }, namespace: 'Not_A_Label', image: 'x' } }),
    ).toThrow(/namespace/);
  });
});
