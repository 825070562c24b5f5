import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime, RuntimeObservation } from '../src/index.js';
import { settled, specFor, waitForObservation } from '../src/contract/runtime.contract.js';
import { debugEnv, localHarness, type LocalHarness } from './local.fixtures.js';

/** Records, at the moment each change is announced, the phase of every replica. */
function recordPhases(runtime: Runtime, serviceId: string): { at: number; phases: string[] }[] {
  const log: { at: number; phases: string[] }[] = [];
  runtime.onChange((id) => {
    if (id !== serviceId) return;
    const at = Date.now();
    void runtime.observe(id).then((o) => log.push({ at, phases: o.replicas.map((r) => r.phase) }));
  });
  return log;
}

function firstAfter(log: { at: number; phases: string[] }[], since: number, phase: string): number {
  const entry = log.find((e) => e.at >= since && e.phases[0] === phase);
  if (!entry) throw new Error(`no ${phase} after ${since}: ${JSON.stringify(log)}`);
  return entry.at;
}

const readyWithRestarts = (restarts: number) => (o: RuntimeObservation) =>
  o.replicas.length === 1 && o.replicas[0].phase === 'ready' && o.replicas[0].restarts === restarts;

describe('local runtime: crashed replicas', () => {
  let harness: LocalHarness;
  beforeEach(async () => {
    harness = await localHarness();
  });
  afterEach(() => harness.cleanup());

  it('restarts a replica killed with SIGKILL after an exponential backoff and counts the restarts', async () => {
    const runtime = harness.runtime({ backoff: { initialMs: 300, maxMs: 5_000, resetAfterMs: 60_000 } });
    await runtime.start();
    const id = 'svc-restartkill01';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1 }));
    const up = await waitForObservation(runtime, id, settled(1, 1), 10_000, 'a ready replica');
    const [replica] = up.replicas;
    const phases = recordPhases(runtime, id);

    const first = await debugEnv(replica.url!);
    const firstKill = Date.now();
    process.kill(first.pid, 'SIGKILL');
    const crashed = await waitForObservation(runtime, id, (o) => o.replicas[0]?.phase === 'restarting', 5_000, 'restarting');
    expect(crashed.replicas[0].message).toMatch(/killed by SIGKILL; restarting in 300 ms/);
    expect(crashed.replicas[0].url).toBeNull();
    const again = await waitForObservation(runtime, id, readyWithRestarts(1), 10_000, 'ready after 1 restart');
    expect(again.replicas[0].replicaId).toBe(replica.replicaId);
    const second = await debugEnv(again.replicas[0].url!);
    expect(second.pid).not.toBe(first.pid);
    expect(firstAfter(phases, firstKill, 'starting') - firstKill).toBeGreaterThanOrEqual(290);

    // Crashing again soon after: the delay doubles.
    const secondKill = Date.now();
    process.kill(second.pid, 'SIGKILL');
    await waitForObservation(runtime, id, readyWithRestarts(2), 10_000, 'ready after 2 restarts');
    expect(firstAfter(phases, secondKill, 'starting') - secondKill).toBeGreaterThanOrEqual(590);
  });

  it('resets the backoff once a replica has stayed ready for a while', async () => {
    const runtime = harness.runtime({ backoff: { initialMs: 300, maxMs: 5_000, resetAfterMs: 200 } });
    await runtime.start();
    const id = 'svc-restartreset01';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1 }));
    let up = await waitForObservation(runtime, id, settled(1, 1), 10_000, 'a ready replica');
    const phases = recordPhases(runtime, id);
    process.kill((await debugEnv(up.replicas[0].url!)).pid, 'SIGKILL');
    up = await waitForObservation(runtime, id, readyWithRestarts(1), 10_000, 'ready after 1 restart');
    await new Promise((resolve) => setTimeout(resolve, 400));

    const kill = Date.now();
    process.kill((await debugEnv(up.replicas[0].url!)).pid, 'SIGKILL');
    await waitForObservation(runtime, id, readyWithRestarts(2), 10_000, 'ready after 2 restarts');
    const delay = firstAfter(phases, kill, 'starting') - kill;
    expect(delay).toBeGreaterThanOrEqual(290);
    expect(delay).toBeLessThan(590);
  });

  it('reports model_load_failed with the last stderr line when the server keeps exiting before it listens', async () => {
    const runtime = harness.runtime();
    await runtime.start();
    const id = 'svc-crashloadfail1';
    await runtime.apply(specFor(id, await harness.model({ exitBeforeListen: true }), { replicas: 1 }));
    const failed = await waitForObservation(runtime, id, (o) => o.condition?.type === 'failed', 10_000, 'a failed condition');
    expect(failed.condition).toMatchObject({ type: 'failed', reason: 'model_load_failed' });
    expect(failed.condition!.message).toContain('Error: failed to load the model: invalid protobuf');
    expect(failed.replicas[0].restarts).toBeGreaterThanOrEqual(2);
    expect(failed.replicas[0].phase).not.toBe('ready');
  });

  it('reports model_load_failed when the model-server command cannot even be started', async () => {
    const runtime = harness.runtime({ modelServer: { command: '/nonexistent/model-server', args: [] } });
    await runtime.start();
    const id = 'svc-crashnocommand';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 1 }));
    const failed = await waitForObservation(runtime, id, (o) => o.condition?.type === 'failed', 10_000, 'a failed condition');
    expect(failed.condition).toMatchObject({ type: 'failed', reason: 'model_load_failed' });
    expect(failed.condition!.message).toContain('could not start /nonexistent/model-server');
  });

  it('reports crash_loop when the server listens but never becomes ready in time', async () => {
    const runtime = harness.runtime({ readinessTimeoutMs: 300 });
    await runtime.start();
    const id = 'svc-crashloopnr01';
    await runtime.apply(specFor(id, await harness.model({ neverReady: true }), { replicas: 1 }));
    const failed = await waitForObservation(runtime, id, (o) => o.condition?.type === 'failed', 20_000, 'a failed condition');
    expect(failed.condition).toMatchObject({ type: 'failed', reason: 'crash_loop' });
    expect(failed.condition!.message).toContain('not ready within 300 ms of listening');
  });

  it('does not count a slow start against the readiness budget: startup has its own timeout, like a startupProbe', async () => {
    // Loading takes 1.5 s, far past the 300 ms readiness budget, which only starts at the listening line.
    const runtime = harness.runtime({ readinessTimeoutMs: 300, startupTimeoutMs: 20_000 });
    await runtime.start();
    const id = 'svc-slowstart0001';
    await runtime.apply(specFor(id, await harness.model({ listenAfterMs: 1_500 }), { replicas: 1 }));
    const up = await waitForObservation(runtime, id, settled(1, 1), 30_000, 'a ready replica');
    expect(up.replicas[0]).toMatchObject({ phase: 'ready', restarts: 0 });
    expect(up.condition).toBeNull();
  });

  it('reports model_load_failed when the server never gets as far as listening within the startup timeout', async () => {
    const runtime = harness.runtime({ startupTimeoutMs: 500 });
    await runtime.start();
    const id = 'svc-neverlisten01';
    await runtime.apply(specFor(id, await harness.model({ neverListen: true }), { replicas: 1 }));
    const failed = await waitForObservation(runtime, id, (o) => o.condition?.type === 'failed', 20_000, 'a failed condition');
    expect(failed.condition).toMatchObject({ type: 'failed', reason: 'model_load_failed' });
    expect(failed.condition!.message).toContain('not listening within 500 ms of its start');
  });

  it('keeps the old generation serving while a broken new one crash-loops, and rolls on to a fixed one', async () => {
    const runtime = harness.runtime();
    await runtime.start();
    const id = 'svc-brokenrollout1';
    await runtime.apply(specFor(id, await harness.model(), { replicas: 2 }));
    const good = await waitForObservation(runtime, id, settled(2, 1), 10_000, '2 ready replicas');

    const broken = await harness.model({ crashAfterMs: 50, neverReady: true }, 'v2');
    await runtime.apply(specFor(id, broken, { replicas: 2, generation: 2 }));
    const failing = await waitForObservation(runtime, id, (o) => o.condition?.type === 'failed', 10_000, 'a failed rollout');
    expect(failing.condition).toMatchObject({ reason: 'crash_loop' });
    expect(failing.condition!.message).toContain('crashing after 50 ms as told');
    const serving = failing.replicas.filter((r) => r.phase === 'ready');
    expect(serving.map((r) => [r.replicaId, r.generation])).toEqual(good.replicas.map((r) => [r.replicaId, 1]));
    expect(failing.replicas.filter((r) => r.generation === 2)).toHaveLength(1);

    await runtime.apply(specFor(id, await harness.model({}, 'v3'), { replicas: 2, generation: 3 }));
    const fixed = await waitForObservation(runtime, id, settled(2, 3), 10_000, '2 ready replicas of generation 3');
    expect(fixed.condition).toBeNull();
  });
});
