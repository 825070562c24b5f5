import { get } from 'node:http';
import type { ReplicaObservation, Runtime, RuntimeObservation, RuntimeServiceSpec } from '../runtime.port.js';

export type ModelUnderTest = Omit<RuntimeServiceSpec['model'], 'name'>;

/** A spec the suite varies; the model is served under the service id, as the provisioner does. */
export function specFor(
  serviceId: string,
  model: ModelUnderTest,
  overrides: Partial<Omit<RuntimeServiceSpec, 'model'>> & { version?: string } = {},
): RuntimeServiceSpec {
  const { version, ...rest } = overrides;
  return {
    serviceId,
    workspaceId: 1,
    generation: 1,
    replicas: 1,
    cpu: 0.5,
    memory: 256 * 1024 * 1024,
    gpu: 0,
    model: { ...model, name: serviceId, version: version ?? model.version },
    ...rest,
  };
}

export function readyReplicas(observation: RuntimeObservation): ReplicaObservation[] {
  return observation.replicas.filter((r) => r.phase === 'ready');
}

export function liveReplicas(observation: RuntimeObservation): ReplicaObservation[] {
  return observation.replicas.filter((r) => r.phase !== 'terminating');
}

/**
 * Polls `observe` until `done` holds; on timeout the error shows the last observation, which is what one
 * needs to see to understand a convergence failure.
 */
export async function waitForObservation(
  runtime: Runtime,
  serviceId: string,
  done: (observation: RuntimeObservation) => boolean,
  timeoutMs: number,
  what = 'the expected state',
): Promise<RuntimeObservation> {
  const deadline = Date.now() + timeoutMs;
  let last = await runtime.observe(serviceId);
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last observation: ${JSON.stringify(last, null, 2)}`);
    }
    await sleep(20);
    last = await runtime.observe(serviceId);
  }
  return last;
}

/** Exactly `count` replicas, all ready at `generation` (nothing terminating left over). */
export function settled(count: number, generation: number): (o: RuntimeObservation) => boolean {
  return (o) =>
    o.generation === generation &&
    o.replicas.length === count &&
    o.replicas.every((r) => r.phase === 'ready' && r.generation === generation && r.url !== null);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The HTTP status of `GET url`, or null when nothing answers (connection refused, timeout). */
export function httpStatus(url: string, timeoutMs = 2_000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
