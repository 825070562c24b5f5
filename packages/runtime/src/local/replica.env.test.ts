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
    modelId: 4,
    artifact: { uri: 'file:///data/models/m.onnx', sha256: 'ab'.repeat(32), sizeBytes: 1234, access: 'none' },
    labels: ['cat', 'dog'],
    preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
  },
};

const dirs = { home: '/data/runtime/replicas/r1/home', tmp: '/data/runtime/replicas/r1/tmp' };

describe('replicaEnv', () => {
  it('tells the model server what to load, where to listen, which GPUs it may use and where its home and temp are', () => {
    const env = replicaEnv({ PATH: '/bin', RGPU_PREPROCESSING: 'stale' }, spec, [2, 3], dirs);
    expect(env).toEqual({
      PATH: '/bin',
      HOME: dirs.home,
      TMPDIR: dirs.tmp,
      ORT_DISABLE_TELEMETRY: '1',
      RGPU_MODEL_PATH: '/data/models/m.onnx',
      RGPU_MODEL_NAME: 'svc-abcdefghij',
      RGPU_MODEL_VERSION: 'v2',
      RGPU_LABELS: '["cat","dog"]',
      RGPU_PREPROCESSING: '{"mean":[0.5,0.5,0.5],"std":[0.2,0.2,0.2]}',
      PORT: '0',
      HOST: '127.0.0.1',
      RGPU_EXIT_ON_STDIN_CLOSE: '1',
      CUDA_VISIBLE_DEVICES: '2,3',
      RGPU_INTRA_OP_THREADS: '1',
    });
  });

  it('sizes intra-op threads from the cpu request (an inherited setting wins) and passes the version\'s batching', () => {
    const batching = { maxBatchSize: 16, maxQueueDelayMs: 5, preferredBatchSizes: [8] };
    const env = replicaEnv({}, { ...spec, cpu: 3.5, model: { ...spec.model, batching } }, [], dirs);
    expect(env.RGPU_INTRA_OP_THREADS).toBe('3');
    expect(env.RGPU_BATCHING).toBe('{"max_batch_size":16,"max_queue_delay_ms":5,"preferred_batch_sizes":[8]}');
    expect(replicaEnv({}, { ...spec, cpu: 0.5 }, [], dirs).RGPU_INTRA_OP_THREADS).toBe('1');
    expect(replicaEnv({ RGPU_INTRA_OP_THREADS: '6' }, spec, [], dirs).RGPU_INTRA_OP_THREADS).toBe('6');
    expect('RGPU_BATCHING' in replicaEnv({}, spec, [], dirs)).toBe(false);
  });

  it('hides every GPU and drops an inherited preprocessing when there is none', () => {
    const env = replicaEnv({ RGPU_PREPROCESSING: 'stale', CUDA_VISIBLE_DEVICES: '0' }, { ...spec, model: { ...spec.model, preprocessing: null } }, [], dirs);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('');
    expect('RGPU_PREPROCESSING' in env).toBe(false);
  });

  it('passes only allow-listed variables of the platform: never its secrets, store or bus, nor anything unknown', () => {
    const platform = {
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
      RGPU_LOG_LEVEL: 'warn',
      RGPU_INTRA_OP_THREADS: '2',
      RGPU_JWT_SECRET: 'super-secret-signing-key-0123456789',
      RGPU_STORE_URL: 'mongodb://user:password@db/rgpu',
      NATS_URL: 'nats://user:password@bus:4222',
      RGPU_DATA_DIR: '/data',
      AWS_SECRET_ACCESS_KEY: 'x',
      NODE_OPTIONS: '--require /tmp/evil.js',
      HOME: '/root',
      TMPDIR: '/tmp',
      XDG_CACHE_HOME: '/root/.cache',
      ORT_DISABLE_TELEMETRY: '0',
      SOME_CANARY: 'y',
    };
    const env = replicaEnv(platform, spec, [], dirs);
    expect(Object.keys(env).filter((k) => !k.startsWith('RGPU_MODEL_')).sort()).toEqual(
      [
        'CUDA_VISIBLE_DEVICES', 'HOME', 'HOST', 'LANG', 'LC_ALL', 'LD_LIBRARY_PATH', 'ORT_DISABLE_TELEMETRY', 'PATH', 'PORT',
        'RGPU_EXIT_ON_STDIN_CLOSE', 'RGPU_INTRA_OP_THREADS', 'RGPU_LABELS', 'RGPU_LOG_LEVEL', 'RGPU_PREPROCESSING', 'TMPDIR', 'TZ',
      ].sort(),
    );
    expect(env).toMatchObject({ HOME: dirs.home, TMPDIR: dirs.tmp, ORT_DISABLE_TELEMETRY: '1', RGPU_LOG_LEVEL: 'warn' });
  });
});

describe('replicaEnv with an artifact the replica downloads', () => {
  const remote = { ...spec, model: { ...spec.model, artifact: { uri: 'http://gw:8080/api/v1/artifacts/4/v2', sha256: 'cd'.repeat(32), sizeBytes: 99, access: 'artifact_token' as const } } };

  it('names the URI, its sha256 and the registered size, and no path', () => {
    const env = replicaEnv({ RGPU_MODEL_PATH: '/stale', RGPU_MODEL_TOKEN: 'platform-token' }, remote, [], dirs);
    expect(env).toMatchObject({ RGPU_MODEL_URI: 'http://gw:8080/api/v1/artifacts/4/v2', RGPU_MODEL_SHA256: 'cd'.repeat(32), RGPU_MODEL_SIZE_BYTES: '99' });
    expect('RGPU_MODEL_PATH' in env).toBe(false);
    expect('RGPU_MODEL_TOKEN' in env).toBe(false); // nothing of the platform's own environment
  });

  it('carries the token it is given for this start', () => {
    expect(replicaEnv({}, remote, [], dirs, { RGPU_MODEL_TOKEN: 't.o.k' }).RGPU_MODEL_TOKEN).toBe('t.o.k');
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
