import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import {
  LIMITS,
  parseCreateModelVersion,
  parseModelVersionPatch,
  parseCreateService,
  parsePredict,
  parseServiceListQuery,
  parseUpdateService,
} from './validation.js';
import { isServiceId, newServiceId } from './ids.js';

const seedBody = {
  name: 'ResNet Inference',
  description: '图像分类推理服务',
  workspace_id: 456,
  model_id: 789,
  model_version: 'v1.0',
  framework: 'pytorch',
  cpu: 4,
  memory: 17179869184,
  gpu: 1,
  replicas: 2,
};

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(40000);
    return (err as AppError).fields.map((f) => f.field);
  }
  throw new Error('expected a validation error');
}

describe('parseCreateService', () => {
  it('accepts the seed body unchanged', () => {
    expect(parseCreateService(seedBody)).toEqual({
      name: 'ResNet Inference',
      description: '图像分类推理服务',
      workspaceId: 456,
      modelId: 789,
      modelVersion: 'v1.0',
      framework: 'pytorch',
      cpu: 4,
      memory: 17179869184,
      gpu: 1,
      replicas: 2,
    });
  });

  it('fills documented defaults for optional resources', () => {
    const parsed = parseCreateService({ name: 'x', workspace_id: 1, model_id: 1, model_version: 'v1' });
    expect(parsed).toMatchObject({ cpu: 1, memory: 2 * 1024 ** 3, gpu: 0, replicas: 1, description: '', framework: undefined });
  });

  it.each([
    ['name', ''],
    ['name', ' '],
    ['name', 'a'.repeat(65)],
    ['name', '<script>'],
    ['name', 42],
    ['description', 'x'.repeat(1001)],
    ['workspace_id', 0],
    ['workspace_id', '456'],
    ['model_id', 1.5],
    ['model_version', '../etc'],
    ['model_version', ''],
    ['framework', 'caffe'],
    ['cpu', 0],
    ['cpu', 129],
    ['cpu', '4'],
    ['cpu', 0.0001 + 1],
    ['memory', 1024],
    ['memory', 2 ** 60],
    ['memory', 1.5e9 + 0.5],
    ['gpu', -1],
    ['gpu', 17],
    ['gpu', 0.5],
    ['replicas', 0],
    ['replicas', 33],
    ['replicas', null],
  ])('rejects %s = %j naming the field', (field, value) => {
    expect(fieldsOf(() => parseCreateService({ ...seedBody, [field]: value }))).toEqual([field]);
  });

  it('reports every problem at once', () => {
    expect(fieldsOf(() => parseCreateService({ cpu: -1 }))).toEqual(['name', 'workspace_id', 'model_id', 'model_version', 'cpu']);
  });

  it('rejects a body that is not an object', () => {
    expect(fieldsOf(() => parseCreateService([seedBody]))).toEqual(['body']);
  });

  it('keeps memory above 32 bits exact', () => {
    expect(parseCreateService({ ...seedBody, memory: LIMITS.memoryMax }).memory).toBe(1099511627776);
  });
});

describe('parseUpdateService', () => {
  it('keeps only the fields sent', () => {
    expect(parseUpdateService({ replicas: 3 })).toEqual({ replicas: 3 });
  });
  it('refuses an empty patch and immutable fields', () => {
    expect(fieldsOf(() => parseUpdateService({}))).toEqual(['body']);
    expect(fieldsOf(() => parseUpdateService({ name: 'other', replicas: 2 }))).toEqual(['name']);
  });
});

describe('list query', () => {
  it('defaults to page 1 of 20 and clamps page_size to 100', () => {
    expect(parseServiceListQuery({})).toMatchObject({ page: 1, pageSize: 20 });
    expect(parseServiceListQuery({ page_size: '1000' }).pageSize).toBe(100);
  });
  it('rejects a bad page, status or workspace_id', () => {
    expect(fieldsOf(() => parseServiceListQuery({ page: '0', status: 'sleeping', workspace_id: 'x' }))).toEqual([
      'page',
      'workspace_id',
      'status',
    ]);
  });
});

describe('model version metadata from a form', () => {
  it('parses labels and preprocessing JSON text', () => {
    expect(
      parseCreateModelVersion({ version: 'v1', labels: '["a","b"]', preprocessing: '{"mean":[0.5,0.5,0.5],"std":[0.2,0.2,0.2]}' }, { fromForm: true }),
    ).toEqual({ version: 'v1', labels: ['a', 'b'], preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] }, artifactUri: undefined, batching: null });
  });
  it('parses batching JSON text and checks its bounds (a version PATCH needs it, null turns it off)', () => {
    expect(parseCreateModelVersion({ version: 'v1', labels: '["a"]', batching: '{"max_batch_size":8,"preferred_batch_sizes":[2,4]}' }, { fromForm: true }).batching).toEqual({
      maxBatchSize: 8,
      maxQueueDelayMs: 5,
      preferredBatchSizes: [2, 4],
    });
    expect(fieldsOf(() => parseCreateModelVersion({ version: 'v1', labels: ['a'], batching: { max_batch_size: 8, max_queue_delay_ms: -1 } }))).toEqual(['batching']);
    expect(fieldsOf(() => parseCreateModelVersion({ version: 'v1', labels: '["a"]', batching: '{oops' }, { fromForm: true }))).toEqual(['batching']);
    expect(parseModelVersionPatch({ batching: null })).toEqual({ batching: null });
    expect(parseModelVersionPatch({ batching: { max_batch_size: 2, max_queue_delay_ms: 0 } }).batching).toEqual({ maxBatchSize: 2, maxQueueDelayMs: 0, preferredBatchSizes: [] });
    expect(fieldsOf(() => parseModelVersionPatch({}))).toEqual(['batching']);
    expect(fieldsOf(() => parseModelVersionPatch({ batching: { max_batch_size: 4, preferred_batch_sizes: [4, 2] } }))).toEqual(['batching']);
  });
  it('names broken JSON fields', () => {
    expect(fieldsOf(() => parseCreateModelVersion({ version: 'v1', labels: '[oops' }, { fromForm: true }))).toEqual(['labels']);
    expect(fieldsOf(() => parseCreateModelVersion({ version: 'v1', labels: ['a'], preprocessing: { mean: [1, 2], std: [1, 1, 1] } }))).toEqual([
      'preprocessing',
    ]);
    expect(fieldsOf(() => parseCreateModelVersion({ version: 'v1', labels: ['a'], preprocessing: { size: [224, '224'] } }))).toEqual(['preprocessing']);
  });
  it('fills mean and std when preprocessing gives only a size; values are judged against the model later (422)', () => {
    expect(parseCreateModelVersion({ version: 'v1', labels: ['a'], preprocessing: { size: [320, 240] } }).preprocessing).toEqual({
      mean: [0, 0, 0],
      std: [1, 1, 1],
      size: [320, 240],
    });
    // 1e999 is Infinity after JSON.parse: well-formed, and refused by imageClassifierSignature instead.
    expect(parseCreateModelVersion({ version: 'v1', labels: ['a'], preprocessing: '{"mean":[1e999,0,0],"std":[1e-308,1,1]}' }, { fromForm: true }).preprocessing).toEqual({
      mean: [Infinity, 0, 0],
      std: [1e-308, 1, 1],
    });
  });
});

describe('parsePredict', () => {
  it('accepts the seed body and a data: prefix', () => {
    expect(parsePredict({ inputs: { image: 'aGVsbG8=' } })).toEqual({ image: 'aGVsbG8=', topK: undefined });
    expect(parsePredict({ inputs: { image: 'data:image/png;base64,aGVsbG8=' }, parameters: { top_k: 2 } }).topK).toBe(2);
  });
  it('rejects a missing image, non-base64 text and a bad top_k', () => {
    expect(fieldsOf(() => parsePredict({}))).toEqual(['inputs']);
    expect(fieldsOf(() => parsePredict({ inputs: { image: 'not base64!' } }))).toEqual(['inputs.image']);
    expect(fieldsOf(() => parsePredict({ inputs: { image: 'aGVsbG8=' }, parameters: { top_k: 0 } }))).toEqual(['parameters.top_k']);
  });
});

describe('service ids', () => {
  it('are svc- plus 16 random lowercase letters/digits, all different', () => {
    const ids = new Set(Array.from({ length: 2000 }, newServiceId));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^svc-[a-z0-9]{16}$/);
    expect(isServiceId('svc-abc123')).toBe(false); // the seed's example id is too short to be unguessable
    expect(isServiceId('svc-abcdefghij')).toBe(true);
  });
});
