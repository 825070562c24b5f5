import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { RouterMetrics } from './router.metrics.js';
import { ServiceRoute } from './service-route.js';

function route(): ServiceRoute {
  const metrics = new RouterMetrics(new Registry());
  const r = new ServiceRoute('svc-1', 1, 'running', 1, metrics.forService('svc-1'));
  r.setEndpoints(
    [
      { replicaId: 'batching', url: 'http://127.0.0.1:40001', maxInFlight: 64 },
      { replicaId: 'plain', url: 'http://127.0.0.1:40002' },
      // Below the router's cap: the router's cap stays the floor.
      { replicaId: 'small', url: 'http://127.0.0.1:40003', maxInFlight: 2 },
    ],
    () => {},
  );
  return r;
}

describe('per-replica caps in the admission slots', () => {
  it('counts each replica in rotation at max(router cap, its endpoint cap)', () => {
    const r = route();
    expect(r.queueState(0, 8).slots).toBe(64 + 8 + 8);
    r.replicas[0].ejectedUntil = 1000;
    expect(r.queueState(0, 8).slots).toBe(8 + 8);
  });
});
