import { describe, expect, it } from 'vitest';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import { newReplica, toObservation } from './replica.state.js';

const spec: RuntimeServiceSpec = {
  serviceId: 'svc-abcdefghij',
  workspaceId: 7,
  generation: 3,
  replicas: 1,
  cpu: 1,
  memory: 1024,
  gpu: 0,
  model: {
    name: 'svc-abcdefghij',
    version: 'v2',
    modelId: 4,
    artifact: { uri: 'file:///data/models/m.onnx', sha256: 'ab'.repeat(32), sizeBytes: 1234, access: 'none' },
    labels: ['cat', 'dog'],
    preprocessing: null,
  },
};

describe('a local replica observation', () => {
  it('carries the in-flight cap of its batching: two batches, so the router lets batches fill', () => {
    const batching = { maxBatchSize: 32, maxQueueDelayMs: 5, preferredBatchSizes: [] };
    const replica = newReplica(spec.serviceId, 1, { ...spec, model: { ...spec.model, batching } }, 't');
    replica.phase = 'ready';
    replica.url = 'http://127.0.0.1:41234';
    expect(toObservation(replica)).toMatchObject({ phase: 'ready', url: 'http://127.0.0.1:41234', maxInFlight: 64 });
  });

  it('has no cap without batching (the router cap alone applies)', () => {
    const observation = toObservation(newReplica(spec.serviceId, 1, spec, 't'));
    expect('maxInFlight' in observation).toBe(false);
  });
});
