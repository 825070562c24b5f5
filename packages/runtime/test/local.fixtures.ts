import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir, type TempDir } from '@remotegpu/testkit';
import { LocalRuntime, type LocalRuntimeOptions } from '../src/index.js';
import type { ModelUnderTest } from '../src/contract/runtime.contract.js';
import { httpStatus } from '../src/contract/runtime.contract.js';

export const FAKE_MODEL_SERVER = fileURLToPath(new URL('./fixtures/fake-model-server.mjs', import.meta.url));

/** What the fake model server does when it loads an artifact (see fixtures/fake-model-server.mjs). */
export interface FakeBehaviour {
  exitBeforeListen?: boolean;
  crashAfterMs?: number;
  neverReady?: boolean;
  readyAfterMs?: number;
  ignoreStdinClose?: boolean;
  ignoreSigterm?: boolean;
  listenAfterMs?: number;
  neverListen?: boolean;
}

export interface LocalHarness {
  dir: TempDir;
  /** A model whose artifact makes the fake server behave as told. */
  model(behaviour?: FakeBehaviour, version?: string): Promise<ModelUnderTest>;
  runtime(options?: Partial<LocalRuntimeOptions>): LocalRuntime;
  /** Stops every runtime made here, then removes the directory. */
  cleanup(): Promise<void>;
}

/** Fast timings: tests must not wait for production backoffs and grace periods. */
export const FAST: Partial<LocalRuntimeOptions> = {
  // Starting Node takes what the machine gives it (seconds under load); only the readiness budget is short.
  startupTimeoutMs: 20_000,
  readinessTimeoutMs: 5_000,
  readinessPollMs: 20,
  gracePeriodMs: 2_000,
  backoff: { initialMs: 50, maxMs: 400 },
  crashLoopLimit: 3,
};

export async function localHarness(): Promise<LocalHarness> {
  const dir = await tempDir('rgpu-runtime-');
  const runtimes: LocalRuntime[] = [];
  let artifacts = 0;
  return {
    dir,
    async model(behaviour = {}, version = 'v1') {
      const artifactPath = join(dir.path, `model-${++artifacts}.json`);
      await writeFile(artifactPath, JSON.stringify(behaviour));
      const artifact = { uri: pathToFileURL(artifactPath).href, sha256: String(artifacts).padStart(64, '0'), sizeBytes: 2, access: 'none' as const };
      return { modelId: artifacts, version, artifact, labels: ['red', 'green', 'blue'], preprocessing: null };
    },
    runtime(options = {}) {
      const runtime = new LocalRuntime({
        modelServer: { command: process.execPath, args: [FAKE_MODEL_SERVER] },
        stateDir: join(dir.path, 'state'),
        gpus: 0,
        ...FAST,
        ...options,
      });
      runtimes.push(runtime);
      return runtime;
    },
    async cleanup() {
      await Promise.all(runtimes.map((r) => r.stop()));
      await dir.cleanup();
    },
  };
}

/** What the fake server reports about itself on `/debug/env`. */
export async function debugEnv(url: string): Promise<{ pid: number; env: Record<string, string> }> {
  const res = await fetch(`${url}/debug/env`);
  return (await res.json()) as { pid: number; env: Record<string, string> };
}

export { httpStatus };

/** Running, that is: signal 0 reaches it and it is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
