import { describe, expect, it } from 'vitest';
import type { ReplicaObservation } from '@remotegpu/runtime';
import { readyEndpoints, sameEndpoints } from './status.decision.js';

function replica(replicaId: string, extra: Partial<ReplicaObservation> = {}): ReplicaObservation {
  return { replicaId, generation: 1, phase: 'ready', url: `http://10.0.0.${replicaId.length}:8080`, restarts: 0, gpus: [], device: null, message: null, ...extra };
}

describe('ready endpoints carry each replica in-flight cap', () => {
  it('copies maxInFlight where the runtime reports one and leaves it out elsewhere', () => {
    const endpoints = readyEndpoints([replica('bb'), replica('a', { maxInFlight: 64 }), replica('ccc', { phase: 'starting', url: null, maxInFlight: 64 })]);
    expect(endpoints).toEqual([
      { replicaId: 'a', url: 'http://10.0.0.1:8080', maxInFlight: 64 },
      { replicaId: 'bb', url: 'http://10.0.0.2:8080' },
    ]);
    expect('maxInFlight' in endpoints[1]).toBe(false);
  });

  it('a changed cap is a change worth writing and publishing', () => {
    const before = [{ replicaId: 'a', url: 'http://10.0.0.1:8080' }];
    expect(sameEndpoints(before, [{ ...before[0], maxInFlight: 64 }])).toBe(false);
    expect(sameEndpoints([{ ...before[0], maxInFlight: 64 }], [{ ...before[0], maxInFlight: 64 }])).toBe(true);
  });
});
