import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, namesAGpu } from './server.config.js';

const REQUIRED = { RGPU_MODEL_PATH: '/models/m.onnx', RGPU_MODEL_NAME: 'svc-abc123', RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: '["cat","dog"]' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('model server configuration', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(REQUIRED)).toEqual({
      modelPath: '/models/m.onnx',
      modelSource: { kind: 'path', path: '/models/m.onnx' },
      terminationMessagePath: null,
      modelName: 'svc-abc123',
      modelVersion: 'v1',
      labels: ['cat', 'dog'],
      preprocessing: null,
      port: 0,
      host: '127.0.0.1',
      device: 'auto',
      gpuAssigned: false,
      maxBodyBytes: 10 * 1024 * 1024,
      drainTimeoutMs: 10_000,
      exitOnStdinClose: false,
      intraOpThreads: undefined,
      batching: null,
      logLevel: 'info',
      httpTimeouts: { headersTimeoutMs: 10_000, bodyTimeoutMs: 20_000, bodyMinBytesPerSecond: 1024, keepAliveTimeoutMs: 65_000 },
    });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      ...REQUIRED,
      RGPU_PREPROCESSING: '{"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}',
      PORT: '9001',
      HOST: '0.0.0.0',
      RGPU_DEVICE: 'cuda',
      RGPU_MAX_BODY_BYTES: '1024',
      RGPU_DRAIN_TIMEOUT_MS: '0',
      RGPU_EXIT_ON_STDIN_CLOSE: '1',
      RGPU_INTRA_OP_THREADS: '2',
      CUDA_VISIBLE_DEVICES: '1,2',
      RGPU_HTTP_HEADERS_TIMEOUT_MS: '1000',
      RGPU_HTTP_BODY_TIMEOUT_MS: '2000',
      RGPU_HTTP_BODY_MIN_BYTES_PER_S: '100',
      RGPU_HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
    });
    expect(config).toMatchObject({
      preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      port: 9001,
      host: '0.0.0.0',
      device: 'cuda',
      gpuAssigned: true,
      maxBodyBytes: 1024,
      drainTimeoutMs: 0,
      exitOnStdinClose: true,
      intraOpThreads: 2,
      httpTimeouts: { headersTimeoutMs: 1000, bodyTimeoutMs: 2000, bodyMinBytesPerSecond: 100, keepAliveTimeoutMs: 5000 },
    });
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      RGPU_MODEL_PATH: '/m.onnx',
      RGPU_MODEL_VERSION: 'has space',
      RGPU_LABELS: '[]',
      RGPU_PREPROCESSING: '{"mean":[0,0],"std":[1,1,1]}', // the shape; values are judged against the model at load
      PORT: '70000',
      RGPU_EXIT_ON_STDIN_CLOSE: 'yes',
      RGPU_INTRA_OP_THREADS: '0',
      RGPU_HTTP_BODY_TIMEOUT_MS: 'soon',
    });
    const named = problems.map((p) => p.split(':')[0]).sort();
    expect(named).toEqual(
      ['PORT', 'RGPU_EXIT_ON_STDIN_CLOSE', 'RGPU_HTTP_BODY_TIMEOUT_MS', 'RGPU_INTRA_OP_THREADS', 'RGPU_LABELS', 'RGPU_MODEL_NAME', 'RGPU_MODEL_VERSION', 'RGPU_PREPROCESSING'].sort(),
    );
    expect(problemsOf({ ...REQUIRED, RGPU_LABELS: 'cat,dog' })).toEqual(['RGPU_LABELS: must be valid JSON']);
    expect(problemsOf({ ...REQUIRED, RGPU_LABELS: '' })[0]).toMatch(/^RGPU_LABELS: is required/);
  });

  it('sees a GPU only when CUDA_VISIBLE_DEVICES names one first', () => {
    for (const yes of ['0', '3,1', ' 2 ', 'GPU-8f2b1c3e-aaaa-bbbb-cccc-0123456789ab', 'MIG-1a2b3c4d-0000']) expect(namesAGpu(yes), yes).toBe(true);
    for (const no of [undefined, '', '-1', 'none', 'NoDevFiles', ',0']) expect(namesAGpu(no), String(no)).toBe(false);
  });

  describe('model delivery by URI', () => {
    const SHA = 'ab'.repeat(32);
    const { RGPU_MODEL_PATH: _path, ...NAMED } = REQUIRED;

    it('downloads into a content-addressed cache under the replica\'s temp dir by default', () => {
      const config = loadConfig({ ...NAMED, RGPU_MODEL_URI: 'https://models.example.com/m.onnx', RGPU_MODEL_SHA256: SHA.toUpperCase(), TMPDIR: '/r/tmp' });
      expect(config.modelSource).toEqual({
        kind: 'uri',
        uri: 'https://models.example.com/m.onnx',
        sha256: SHA,
        token: null,
        sizeBytes: null,
        cacheDir: '/r/tmp/rgpu-model-cache',
        maxBytes: 1024 ** 3,
        fetchTimeoutMs: 600_000,
      });
      expect(config.modelPath).toBe(`/r/tmp/rgpu-model-cache/${SHA}.onnx`);
    });

    it('reads the token, cache dir, limits and termination message path', () => {
      const config = loadConfig({
        ...NAMED,
        RGPU_MODEL_URI: 'http://gateway:8080/api/v1/artifacts/7/v1',
        RGPU_MODEL_SHA256: SHA,
        RGPU_MODEL_TOKEN: 'a.b.c',
        RGPU_MODEL_CACHE_DIR: '/cache',
        RGPU_MODEL_MAX_BYTES: '4096',
        RGPU_MODEL_SIZE_BYTES: '2048',
        RGPU_MODEL_FETCH_TIMEOUT_MS: '5000',
        RGPU_TERMINATION_MESSAGE_PATH: '/dev/termination-log',
      });
      expect(config.modelSource).toMatchObject({ token: 'a.b.c', cacheDir: '/cache', sizeBytes: 2048, maxBytes: 2048, fetchTimeoutMs: 5000 });
      expect(config.modelPath).toBe(`/cache/${SHA}.onnx`);
      expect(config.terminationMessagePath).toBe('/dev/termination-log');
    });

    it('wants exactly one source, and a checksum with a URI', () => {
      expect(problemsOf(NAMED)).toEqual([expect.stringMatching(/^RGPU_MODEL_PATH: is required \(or RGPU_MODEL_URI/)]);
      expect(problemsOf({ ...REQUIRED, RGPU_MODEL_URI: 'http://h/m', RGPU_MODEL_SHA256: SHA })).toEqual([
        'RGPU_MODEL_URI: give either RGPU_MODEL_PATH or RGPU_MODEL_URI, not both',
      ]);
      expect(problemsOf({ ...NAMED, RGPU_MODEL_URI: 'http://h/m' })).toEqual(['RGPU_MODEL_SHA256: is required with RGPU_MODEL_URI']);
    });

    it('refuses other schemes, credentials in the URI, a malformed checksum and a token that is not one header line', () => {
      const named = (env: Record<string, string>) => problemsOf({ ...NAMED, ...env }).map((p) => p.split(':')[0]);
      expect(named({ RGPU_MODEL_URI: 'file:///etc/passwd', RGPU_MODEL_SHA256: SHA })).toEqual(['RGPU_MODEL_URI']);
      expect(named({ RGPU_MODEL_URI: 'https://u:p@h/m', RGPU_MODEL_SHA256: SHA })).toEqual(['RGPU_MODEL_URI']);
      expect(named({ RGPU_MODEL_URI: 'https://h/m', RGPU_MODEL_SHA256: 'abc' })).toEqual(['RGPU_MODEL_SHA256']);
      expect(named({ RGPU_MODEL_URI: 'https://h/m', RGPU_MODEL_SHA256: SHA, RGPU_MODEL_TOKEN: 'a b\r\nX: y' })).toEqual(['RGPU_MODEL_TOKEN']);
    });
  });
});

describe('RGPU_BATCHING', () => {
  const base = { RGPU_MODEL_PATH: '/m.onnx', RGPU_MODEL_NAME: 'svc-x', RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: '["a"]' };
  it('reads the version batching and defaults the delay', () => {
    expect(loadConfig({ ...base, RGPU_BATCHING: '{"max_batch_size":16,"preferred_batch_sizes":[4,8]}' }).batching).toEqual({
      maxBatchSize: 16,
      maxQueueDelayMs: 5,
      preferredBatchSizes: [4, 8],
    });
    expect(loadConfig({ ...base, RGPU_BATCHING: 'null' }).batching).toBeNull();
    expect(loadConfig({ ...base, RGPU_BATCHING: '{"max_batch_size":1}' }).batching).toBeNull();
  });
  it('names out-of-bounds values', () => {
    for (const [value, re] of [
      ['{"max_batch_size":0}', /max_batch_size must be an integer from 1 to 256/],
      ['{"max_batch_size":8,"max_queue_delay_ms":5000}', /max_queue_delay_ms must be an integer from 0 to 1000/],
      ['{"max_batch_size":8,"preferred_batch_sizes":[8,4]}', /strictly ascending/],
      ['{"max_batch_size":8,"preferred_batch_sizes":[16]}', /from 1 to max_batch_size \(8\)/],
      ['{"max_batch_size":8,"typo":1}', /unknown field typo/],
      ['[8]', /must be \{"max_batch_size"/],
    ] as const) {
      expect(() => loadConfig({ ...base, RGPU_BATCHING: value })).toThrow(re);
    }
  });
});
