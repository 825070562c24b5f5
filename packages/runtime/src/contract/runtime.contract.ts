import { newServiceId } from '@remotegpu/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime, RuntimeObservation } from '../runtime.port.js';
import {
  httpStatus,
  liveReplicas,
  readyReplicas,
  settled,
  sleep,
  specFor,
  waitForObservation,
  type ModelUnderTest,
} from './contract.helpers.js';

export { specFor, settled, waitForObservation, httpStatus, sleep } from './contract.helpers.js';
export type { ModelUnderTest } from './contract.helpers.js';

export interface RuntimeUnderTest {
  /** A runtime that is not started yet; the suite starts and stops it. */
  runtime: Runtime;
  /** A model its replicas can load and report ready with; the suite changes `version` to roll a generation. */
  model: ModelUnderTest;
  /** False when replica urls cannot be reached from the test process; the suite then skips its HTTP checks. */
  urlsReachable?: boolean;
  /**
   * Which replica a scale-down removes. `newest` (default): the most recently started goes first. `any-ready`: the
   * adapter's scheduler picks among equally ranked ready replicas (Kubernetes ranks by readiness and creation time
   * in whole seconds; replicas started within the same second tie and either may go), so the suite only demands
   * that the survivor is an untouched replica of the ones it had.
   */
  scaleDownOrder?: 'newest' | 'any-ready';
  cleanup?: () => Promise<void>;
}

/**
 * The behaviour every Runtime adapter must show (Deployment semantics as DESIGN §6 and the port describe).
 * Run it from the adapter's test file: `runRuntimeContract('local', async () => ({ runtime, model, cleanup }))`.
 * The factory must hand out a fresh, unstarted runtime each time.
 */
export function runRuntimeContract(
  name: string,
  factory: () => Promise<RuntimeUnderTest>,
  options: { /** Bound for each convergence wait (default 20 s); a test gets three of them. */ timeoutMs?: number } = {},
): void {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const testTimeout = timeoutMs * 3;
  describe(`Runtime contract: ${name}`, () => {
    let current: RuntimeUnderTest | undefined;
    const subject = (): RuntimeUnderTest => {
      if (!current) throw new Error('the runtime is only available inside a test');
      return current;
    };
    const wait = (id: string, done: (o: RuntimeObservation) => boolean, what: string) =>
      waitForObservation(subject().runtime, id, done, timeoutMs, what);
    const expectUrlsReady = async (o: RuntimeObservation) => {
      if (subject().urlsReachable === false) return;
      for (const replica of o.replicas) expect(await httpStatus(`${replica.url}/v2/health/ready`)).toBe(200);
    };

    beforeEach(async () => {
      current = await factory();
      await current.runtime.start();
    });

    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.runtime.stop();
      await done?.cleanup?.();
    });

    it('reports nothing for a service it does not hold', async () => {
      const { runtime } = subject();
      const id = newServiceId();
      expect(await runtime.observe(id)).toEqual({ serviceId: id, generation: null, replicas: [], condition: null });
      expect(await runtime.services()).not.toContain(id);
      await expect(runtime.remove(id)).resolves.toBeUndefined();
    }, testTimeout);

    it('brings up the desired number of ready replicas whose urls answer readiness', async () => {
      const { runtime, model } = subject();
      const id = newServiceId();
      const changes: string[] = [];
      const unsubscribe = runtime.onChange((serviceId) => changes.push(serviceId));
      await runtime.apply(specFor(id, model, { replicas: 2 }));
      const up = await wait(id, settled(2, 1), '2 ready replicas');
      unsubscribe();
      expect(up.condition).toBeNull();
      expect(new Set(up.replicas.map((r) => r.replicaId)).size).toBe(2);
      await expectUrlsReady(up);
      expect(await runtime.services()).toContain(id);
      expect(changes).toContain(id);

      // Applying the same spec again is a no-op: same replicas, nothing restarted.
      await runtime.apply(specFor(id, model, { replicas: 2 }));
      await sleep(200);
      const again = await runtime.observe(id);
      expect(again.replicas.map((r) => [r.replicaId, r.phase, r.restarts])).toEqual(
        up.replicas.map((r) => [r.replicaId, 'ready', 0]),
      );
    }, testTimeout);

    it('scales up and down without touching the surviving replicas', async () => {
      const { runtime, model } = subject();
      const id = newServiceId();
      await runtime.apply(specFor(id, model, { replicas: 2 }));
      const two = await wait(id, settled(2, 1), '2 ready replicas');
      const original = new Map(two.replicas.map((r) => [r.replicaId, r.url]));

      // The provisioner bumps the generation on every spec change, a scale included.
      await runtime.apply(specFor(id, model, { replicas: 3, generation: 2 }));
      const three = await wait(id, settled(3, 2), '3 ready replicas at generation 2');
      for (const [replicaId, url] of original) {
        const survivor = three.replicas.find((r) => r.replicaId === replicaId);
        expect(survivor, `replica ${replicaId} survives the scale-up`).toMatchObject({ url, restarts: 0 });
      }
      await expectUrlsReady(three);

      await runtime.apply(specFor(id, model, { replicas: 1, generation: 3 }));
      const one = await wait(id, settled(1, 3), '1 ready replica at generation 3');
      const [survivor] = one.replicas;
      if (subject().scaleDownOrder === 'any-ready') {
        const before = three.replicas.find((r) => r.replicaId === survivor.replicaId);
        expect(before, 'the survivor is one of the replicas it had').toBeDefined();
        expect(survivor.url).toBe(before?.url);
      } else {
        expect(original.has(survivor.replicaId), 'the newest replicas go first').toBe(true);
        expect(survivor.url).toBe(original.get(survivor.replicaId));
      }
      expect(survivor.restarts).toBe(0);
      await expectUrlsReady(one);
    }, testTimeout);

    it('rolls a new generation replica by replica, never below the desired number of ready replicas', async () => {
      const { runtime, model } = subject();
      const id = newServiceId();
      await runtime.apply(specFor(id, model, { replicas: 2 }));
      const before = await wait(id, settled(2, 1), '2 ready replicas');

      const samples: RuntimeObservation[] = [];
      const record = () => void runtime.observe(id).then((o) => samples.push(o));
      const unsubscribe = runtime.onChange((serviceId) => serviceId === id && record());
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          record();
          await sleep(5);
        }
      })();
      await runtime.apply(specFor(id, model, { replicas: 2, generation: 2, version: `${model.version}-next` }));
      const after = await wait(id, settled(2, 2), '2 ready replicas of generation 2');
      sampling = false;
      await sampler;
      unsubscribe();

      expect(samples.length).toBeGreaterThan(5);
      expect(Math.min(...samples.map((o) => readyReplicas(o).length))).toBeGreaterThanOrEqual(2);
      expect(Math.max(...samples.map((o) => liveReplicas(o).length)), 'at most one surge replica').toBeLessThanOrEqual(3);
      const oldIds = new Set(before.replicas.map((r) => r.replicaId));
      expect(after.replicas.filter((r) => oldIds.has(r.replicaId))).toEqual([]);
      expect(after.condition).toBeNull();
      await expectUrlsReady(after);
    }, testTimeout);

    it('removes every replica and then forgets the service', async () => {
      const { runtime, model, urlsReachable } = subject();
      const id = newServiceId();
      await runtime.apply(specFor(id, model, { replicas: 2 }));
      const up = await wait(id, settled(2, 1), '2 ready replicas');

      await runtime.remove(id);
      const gone = await wait(id, (o) => o.generation === null, 'the service to be forgotten');
      expect(gone).toEqual({ serviceId: id, generation: null, replicas: [], condition: null });
      expect(await runtime.services()).not.toContain(id);
      if (urlsReachable !== false) {
        for (const replica of up.replicas) expect(await httpStatus(`${replica.url}/v2/health/ready`)).toBeNull();
      }
      await expect(runtime.remove(id)).resolves.toBeUndefined();
    }, testTimeout);
  });
}
