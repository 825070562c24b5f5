import { describe, expect, it } from 'vitest';
import { inFlightForBatching, parseBatching } from './batching.js';
import { ServiceStatusEvent } from './events.js';

describe('inFlightForBatching', () => {
  it('is two batches: one running, one filling', () => {
    expect(inFlightForBatching({ maxBatchSize: 32, maxQueueDelayMs: 5, preferredBatchSizes: [] })).toBe(64);
    expect(inFlightForBatching({ maxBatchSize: 4, maxQueueDelayMs: 0, preferredBatchSizes: [2] })).toBe(8);
  });

  it('is null when batching is off, so the router keeps its own cap', () => {
    expect(inFlightForBatching(null)).toBeNull();
    expect(inFlightForBatching(undefined)).toBeNull();
    const off = parseBatching({ max_batch_size: 1 });
    expect(off.ok && inFlightForBatching(off.value)).toBeNull();
  });
});

describe('the status event carries a replica endpoint cap', () => {
  const event = {
    eventId: 'e1',
    serviceId: 'svc-1',
    workspaceId: 1,
    at: '2026-01-01T00:00:00.000Z',
    status: 'running',
    previousStatus: null,
    reason: null,
    message: null,
    readyReplicas: 2,
    replicas: 2,
    generation: 1,
    version: 3,
    deleted: false,
  };

  it('keeps maxInFlight where an endpoint has it, and accepts endpoints without it', () => {
    const endpoints = [{ replicaId: 'a', url: 'http://10.0.0.1:8080', maxInFlight: 64 }, { replicaId: 'b', url: 'http://10.0.0.2:8080' }];
    expect(ServiceStatusEvent.parse({ ...event, endpoints }).endpoints).toEqual(endpoints);
  });

  it('refuses a cap that is not a positive integer', () => {
    for (const maxInFlight of [0, -1, 2.5, '8']) {
      expect(ServiceStatusEvent.safeParse({ ...event, endpoints: [{ replicaId: 'a', url: 'http://x', maxInFlight }] }).success).toBe(false);
    }
  });
});
