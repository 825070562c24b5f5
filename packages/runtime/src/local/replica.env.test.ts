import { describe, expect, it } from 'vitest';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import { replicaEnv, templateOf } from './replica.env.js';

const spec: RuntimeServiceSpec = {
  serviceId: 'svc-abcdefghij',
  workspaceId: 7,
  generation: 3,
  replicas: 2,
  cpu: 1,
  memory: 1024,
  gpu: 1,
  model: {
    name: 'svc-abcdefghij',
    version: 'v2',
    artifactPath: '/data/models/m.onnx',
    sha256: 'abc',
    labels: ['cat', 'dog'],
    preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
  },
};

describe('replicaEnv', () => {
  it('tells the model server what to load, where to listen and which GPUs it may use', () => {
    const env = replicaEnv({ PATH: '/bin', RGPU_PREPROCESSING: 'stale' }, spec, [2, 3]);
    expect(env).toEqual({
      PATH: '/bin',
      RGPU_MODEL_PATH: '/data/models/m.onnx',
      RGPU_MODEL_NAME: 'svc-abcdefghij',
      RGPU_MODEL_VERSION: 'v2',
      RGPU_LABELS: '["cat","dog"]',
      RGPU_PREPROCESSING: '{"mean":[0.5,0.5,0.5],"std":[0.2,0.2,0.2]}',
      PORT: '0',
      HOST: '127.0.0.1',
      RGPU_EXIT_ON_STDIN_CLOSE: '1',
      CUDA_VISIBLE_DEVICES: '2,3',
    });
  });

  it('hides every GPU and drops an inherited preprocessing when there is none', () => {
    const env = replicaEnv({ RGPU_PREPROCESSING: 'stale', CUDA_VISIBLE_DEVICES: '0' }, { ...spec, model: { ...spec.model, preprocessing: null } }, []);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('');
    expect('RGPU_PREPROCESSING' in env).toBe(false);
  });
});

describe('templateOf', () => {
  it('ignores the replica count, the generation and key order, and sees everything else', () => {
    const reordered = { model: { ...spec.model }, gpu: 1, memory: 1024, cpu: 1, replicas: 5, generation: 9, workspaceId: 7, serviceId: spec.serviceId };
    expect(templateOf(reordered)).toBe(templateOf(spec));
    expect(templateOf({ ...spec, model: { ...spec.model, version: 'v3' } })).not.toBe(templateOf(spec));
    expect(templateOf({ ...spec, gpu: 2 })).not.toBe(templateOf(spec));
  });
});
