import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settled, specFor, waitForObservation } from '../src/contract/runtime.contract.js';
import { debugEnv, isAlive, localHarness, type LocalHarness } from './local.fixtures.js';

/** A process's environment as the kernel holds it: what a compromised replica could read about itself. */
async function procEnviron(pid: number): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(raw.split('\0').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}

async function registeredPids(stateDir: string): Promise<number[]> {
  const file = JSON.parse(await readFile(join(stateDir, 'replicas.json'), 'utf8')) as { replicas: { pid: number }[] };
  return file.replicas.map((r) => r.pid);
}

describe('local runtime: processes', () => {
  let harness: LocalHarness;
  beforeEach(async () => {
    harness = await localHarness();
  });
  afterEach(() => harness.cleanup());

  it('stop() terminates every replica, forcing the ones that ignore SIGTERM, and leaves no child alive', async () => {
    const runtime = harness.runtime({ gracePeriodMs: 300 });
    await runtime.start();
    await runtime.apply(specFor('svc-stopallpolite1', await harness.model(), { replicas: 2 }));
    await runtime.apply(specFor('svc-stopallstubbo1', await harness.model({ ignoreSigterm: true }), { replicas: 1 }));
    const observed = await Promise.all([
      waitForObservation(runtime, 'svc-stopallpolite1', settled(2, 1), 10_000, 'polite replicas'),
      waitForObservation(runtime, 'svc-stopallstubbo1', settled(1, 1), 10_000, 'stubborn replica'),
    ]);
    const pids = await Promise.all(observed.flatMap((o) => o.replicas).map(async (r) => (await debugEnv(r.url!)).pid));
    expect(pids).toHaveLength(3);
    expect((await registeredPids(join(harness.dir.path, 'state'))).sort()).toEqual([...pids].sort());

    const started = Date.now();
    await runtime.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await runtime.services()).toEqual([]);
    expect(await registeredPids(join(harness.dir.path, 'state'))).toEqual([]);
  });

  it('starts replicas with an allow-listed environment: no platform secret, nothing unknown, their own HOME and TMPDIR', async () => {
    const platformEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      RGPU_LOG_LEVEL: 'warn',
      RGPU_JWT_SECRET: 'jwt-signing-secret-that-must-stay-home-0123456789',
      RGPU_STORE_URL: 'mongodb://user:password@db.internal/rgpu',
      NATS_URL: 'nats://user:password@bus.internal:4222',
      RGPU_CANARY_VARIABLE: 'canary-3f9a',
      HOME: '/root',
      TMPDIR: '/tmp',
    };
    const runtime = harness.runtime({ env: platformEnv });
    await runtime.start();
    const id = 'svc-allowlisted01';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1 }));
    const up = await waitForObservation(runtime, id, settled(1, 1), 20_000, 'a ready replica');
    const { pid } = await debugEnv(up.replicas[0].url!);
    const environ = await procEnviron(pid);

    expect(environ).not.toHaveProperty('RGPU_JWT_SECRET');
    expect(environ).not.toHaveProperty('RGPU_STORE_URL');
    expect(environ).not.toHaveProperty('NATS_URL');
    expect(environ).not.toHaveProperty('RGPU_CANARY_VARIABLE');
    expect(Object.values(environ).join('\n')).not.toContain('jwt-signing-secret');
    const workdir = join(harness.dir.path, 'state', 'replicas', up.replicas[0].replicaId);
    expect(environ).toMatchObject({
      PATH: platformEnv.PATH,
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      RGPU_LOG_LEVEL: 'warn',
      HOME: join(workdir, 'home'),
      TMPDIR: join(workdir, 'tmp'),
      ORT_DISABLE_TELEMETRY: '1',
      RGPU_MODEL_NAME: id,
      CUDA_VISIBLE_DEVICES: '',
    });
    expect(existsSync(join(workdir, 'home')) && existsSync(join(workdir, 'tmp'))).toBe(true);

    // The directories go with the replica.
    await runtime.remove(id);
    await waitForObservation(runtime, id, (o) => o.replicas.length === 0, 10_000, 'no replica');
    await expect.poll(() => existsSync(workdir), { timeout: 5_000 }).toBe(false);
  });

  it('on start, kills the replicas a crashed previous instance left running, and nothing else', async () => {
    // The "crashed" instance: never stopped, and its replica ignores stdin closing, as a hung one would.
    // A long backoff keeps it from restarting the replica once the second instance has killed it.
    const crashed = harness.runtime({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await crashed.start();
    const id = 'svc-orphanreplica1';
    await crashed.apply(specFor(id, await harness.model({ ignoreStdinClose: true }), { replicas: 1 }));
    const up = await waitForObservation(crashed, id, settled(1, 1), 10_000, 'a ready replica');
    const orphan = (await debugEnv(up.replicas[0].url!)).pid;

    // A recorded pid that now belongs to an unrelated process must survive (pids get reused).
    const stateDir = join(harness.dir.path, 'state');
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const file = join(stateDir, 'replicas.json');
    const state = JSON.parse(await readFile(file, 'utf8')) as { replicas: unknown[] };
    state.replicas.push({ pid: bystander.pid, serviceId: 'svc-other', replicaId: 'r', command: ['/usr/bin/model-server'] });
    await writeFile(file, JSON.stringify(state));

    try {
      const next = harness.runtime();
      await next.start();
      expect(isAlive(orphan)).toBe(false);
      expect(isAlive(bystander.pid!)).toBe(true);
      expect(await registeredPids(stateDir)).toEqual([]);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
