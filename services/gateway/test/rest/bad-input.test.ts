import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { fieldsOf, restClient, type Api, type ApiRequest, type ApiResponse } from './rest-client.js';

/**
 * Every way a client can get a request wrong, as a table: the status, the contract code and the field the
 * envelope names. Afterwards: nothing answered 500, and nothing was half-written (no service, no version,
 * no spooled upload left behind).
 */

const WS = 456; // where the failing creates are aimed: it must hold exactly the baseline service afterwards
const OTHER_WS = 789; // a second workspace of the same user, with a model of its own
const SIDE_WS = 457; // successful creates of the conflict cases, so they do not disturb WS's count

let platform: TestPlatform;
let api: Api;
let token: string;
let model: { modelId: number; version: string };
let otherModel: { modelId: number; version: string };
let sideModel: { modelId: number; version: string };
let baselineServiceId: string;
let valid: Record<string, unknown>;
const answers: { name: string; res: ApiResponse }[] = [];

/** Every request of this suite goes through here, so the final checks see all of them. */
async function call(name: string, method: string, urlPath: string, req: ApiRequest = {}): Promise<ApiResponse> {
  const res = await api(method, urlPath, { token, ...req });
  answers.push({ name, res });
  return res;
}

async function listTotal(workspaceId: number): Promise<number> {
  const res = await api<{ pagination: { total: number } }>('GET', `/api/v1/inference/services?workspace_id=${workspaceId}`, { token });
  expect(res.status).toBe(200);
  return res.body.data!.pagination.total;
}

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ sub: 'bob', workspaces: [WS, OTHER_WS, SIDE_WS] });
  model = await platform.registerColorModel(WS, token, { name: 'colors-main' });
  otherModel = await platform.registerColorModel(OTHER_WS, token, { name: 'colors-other' });
  sideModel = await platform.registerColorModel(SIDE_WS, token, { name: 'colors-side' });
  valid = {
    name: 'Baseline',
    description: 'the one service of workspace 456',
    workspace_id: WS,
    model_id: model.modelId,
    model_version: model.version,
    framework: 'pytorch',
    cpu: 4,
    memory: 17179869184,
    gpu: 1,
    replicas: 2,
  };
  const created = await api<{ service_id: string }>('POST', '/api/v1/inference/services', { token, body: valid });
  expect(created.status).toBe(201);
  baselineServiceId = created.body.data!.service_id;
  valid = { ...valid, name: 'Never Created' };
}, 60_000);

afterAll(async () => {
  await platform?.stop();
});

const long = (n: number) => 'x'.repeat(n);

// [case, overrides of a valid create body, field that must be named]
const invalidCreateFields: [string, Record<string, unknown>, string][] = [
  ['name missing', { name: undefined }, 'name'],
  ['name empty', { name: '   ' }, 'name'],
  ['name with a bad character', { name: 'bad/name' }, 'name'],
  ['name too long', { name: long(65) }, 'name'],
  ['name not a string', { name: 42 }, 'name'],
  ['description too long', { description: long(1001) }, 'description'],
  ['description not a string', { description: 7 }, 'description'],
  ['workspace_id missing', { workspace_id: undefined }, 'workspace_id'],
  ['workspace_id zero', { workspace_id: 0 }, 'workspace_id'],
  ['workspace_id as text', { workspace_id: '456' }, 'workspace_id'],
  ['workspace_id fractional', { workspace_id: 4.5 }, 'workspace_id'],
  ['model_id missing', { model_id: undefined }, 'model_id'],
  ['model_id negative', { model_id: -1 }, 'model_id'],
  ['model_id as text', { model_id: '1' }, 'model_id'],
  ['model_version missing', { model_version: undefined }, 'model_version'],
  ['model_version with a space', { model_version: 'v 1' }, 'model_version'],
  ['model_version too long', { model_version: `v${long(64)}` }, 'model_version'],
  ['framework unknown', { framework: 'caffe' }, 'framework'],
  ['framework not a string', { framework: 1 }, 'framework'],
  ['cpu zero', { cpu: 0 }, 'cpu'],
  ['cpu too many', { cpu: 129 }, 'cpu'],
  ['cpu finer than millicores', { cpu: 0.1234 }, 'cpu'],
  ['cpu as text "4"', { cpu: '4' }, 'cpu'],
  ['memory too small', { memory: 1024 }, 'memory'],
  ['memory fractional', { memory: 134217728.5 }, 'memory'],
  ['memory as text', { memory: '17179869184' }, 'memory'],
  ['gpu negative', { gpu: -1 }, 'gpu'],
  ['gpu too many', { gpu: 17 }, 'gpu'],
  ['gpu fractional', { gpu: 0.5 }, 'gpu'],
  ['gpu as text', { gpu: '1' }, 'gpu'],
  ['replicas zero', { replicas: 0 }, 'replicas'],
  ['replicas too many', { replicas: 33 }, 'replicas'],
  ['replicas as text', { replicas: '2' }, 'replicas'],
  ['replicas null', { replicas: null }, 'replicas'],
];

describe('POST /inference/services: invalid fields → 400 naming the field', () => {
  it.each(invalidCreateFields)('%s', async (name, overrides, field) => {
    const body = { ...valid, ...overrides };
    const res = await call(name, 'POST', '/api/v1/inference/services', { body });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.body.message).toContain(field);
  });

  it('names every invalid field at once, in English on request', async () => {
    const res = await call('several', 'POST', '/api/v1/inference/services', {
      body: { ...valid, cpu: '4', replicas: 0, gpu: 99 },
      headers: { 'accept-language': 'en' },
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res).sort()).toEqual(['cpu', 'gpu', 'replicas']);
    const errors = (res.body.data as { errors: { field: string; message: string }[] }).errors;
    expect(errors.find((e) => e.field === 'replicas')!.message).toMatch(/integer from 1 to 32/);
    expect(res.body.message).toMatch(/^Invalid input/);
  });

  it('field messages are Chinese by default', async () => {
    const res = await call('chinese', 'POST', '/api/v1/inference/services', { body: { ...valid, replicas: 0 } });
    const errors = (res.body.data as { errors: { field: string; message: string }[] }).errors;
    expect(errors[0].message).toMatch(/整数/);
  });
});

describe('POST /inference/services: malformed bodies', () => {
  it('a JSON array → 400 naming body', async () => {
    const res = await call('array body', 'POST', '/api/v1/inference/services', { body: [valid] });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['body']);
  });

  it('malformed JSON → 400 (40000)', async () => {
    const res = await call('malformed JSON', 'POST', '/api/v1/inference/services', { body: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(res.body.message).toMatch(/JSON/);
  });

  it('no content type → 400 naming body', async () => {
    const res = await call('no content type', 'POST', '/api/v1/inference/services', { body: JSON.stringify(valid), contentType: null });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['body']);
  });

  it('text/plain → 400 naming body', async () => {
    const res = await call('text/plain', 'POST', '/api/v1/inference/services', { body: JSON.stringify(valid), contentType: 'text/plain' });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['body']);
  });

  it('a 20 MB body → 413 (41300)', async () => {
    const body = JSON.stringify({ ...valid, description: long(20 * 1024 * 1024) });
    const res = await call('20 MB body', 'POST', '/api/v1/inference/services', { body });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe(41300);
  });
});

describe('POST /inference/services: references and conflicts', () => {
  it('unknown model → 422 naming model_id', async () => {
    const res = await call('unknown model', 'POST', '/api/v1/inference/services', { body: { ...valid, model_id: 999_999 } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe(42200);
    expect(fieldsOf(res)).toEqual(['model_id']);
  });

  it('unknown version → 422 naming model_version', async () => {
    const res = await call('unknown version', 'POST', '/api/v1/inference/services', { body: { ...valid, model_version: 'v9.9' } });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['model_version']);
  });

  it('a model of another workspace → 422, even when the token may see that workspace', async () => {
    const res = await call('model of another workspace', 'POST', '/api/v1/inference/services', {
      body: { ...valid, model_id: otherModel.modelId, model_version: otherModel.version },
    });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['model_id']);
  });

  it('framework differing from the model’s → 422 naming framework', async () => {
    const res = await call('framework mismatch', 'POST', '/api/v1/inference/services', { body: { ...valid, framework: 'tensorflow' } });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['framework']);
  });

  it('a workspace the token does not hold → 403', async () => {
    const res = await call('foreign workspace', 'POST', '/api/v1/inference/services', { body: { ...valid, workspace_id: 4242 } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe(40300);
  });

  it('a duplicate name in the same workspace → 409 naming name', async () => {
    const body = { ...valid, workspace_id: SIDE_WS, model_id: sideModel.modelId, name: 'Taken' };
    const first = await call('duplicate (first)', 'POST', '/api/v1/inference/services', { body });
    expect(first.status).toBe(201);
    const res = await call('duplicate name', 'POST', '/api/v1/inference/services', { body: { ...body, replicas: 1 } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe(40900);
    expect(fieldsOf(res)).toEqual(['name']);
  });

  it('Idempotency-Key: a replay answers the first response; another body under the key → 409', async () => {
    const body = { ...valid, workspace_id: SIDE_WS, model_id: sideModel.modelId, name: 'Idempotent' };
    const headers = { 'idempotency-key': 'create-idempotent-1' };
    const first = await call('idempotent (first)', 'POST', '/api/v1/inference/services', { body, headers });
    expect(first.status).toBe(201);
    // Same body with its keys in another order: the canonical hash is the same.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const replay = await call('idempotent (replay)', 'POST', '/api/v1/inference/services', { body: reordered, headers });
    expect(replay.status).toBe(201);
    // The same service, not a second one, and the very first answer again (even if the service moved on).
    expect((first.body.data as { status: string }).status).toBe('creating');
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const other = await call('idempotency conflict', 'POST', '/api/v1/inference/services', { body: { ...body, replicas: 3 }, headers });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe(40900);

    const list = await api<{ items: { name: string }[] }>('GET', `/api/v1/inference/services?workspace_id=${SIDE_WS}&name=Idempotent`, { token });
    expect(list.body.data!.items.map((s) => s.name)).toEqual(['Idempotent']);
  });

  it('an Idempotency-Key longer than 255 characters → 400 naming the header', async () => {
    const res = await call('long idempotency key', 'POST', '/api/v1/inference/services', {
      body: valid,
      headers: { 'idempotency-key': long(256) },
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['Idempotency-Key']);
  });
});

describe('PATCH /inference/services/:id', () => {
  it.each([
    ['replicas zero', { replicas: 0 }, 'replicas'],
    ['replicas as text', { replicas: '3' }, 'replicas'],
    ['cpu as text', { cpu: '2' }, 'cpu'],
    ['name is immutable', { name: 'Renamed' }, 'name'],
    ['workspace_id is immutable', { workspace_id: OTHER_WS }, 'workspace_id'],
    ['model_id is immutable', { model_id: otherModel?.modelId ?? 2 }, 'model_id'],
    ['framework is immutable', { framework: 'onnx' }, 'framework'],
    ['nothing to change', {}, 'body'],
  ])('%s → 400', async (name, body, field) => {
    const res = await call(`patch: ${name}`, 'PATCH', `/api/v1/inference/services/${baselineServiceId}`, { body });
    expect(res.status, res.text).toBe(400);
    expect(fieldsOf(res)).toEqual([field]);
  });

  it('an unknown model_version → 422', async () => {
    const res = await call('patch: unknown version', 'PATCH', `/api/v1/inference/services/${baselineServiceId}`, { body: { model_version: 'v404' } });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['model_version']);
  });

  it('left the service as it was', async () => {
    const res = await api<Record<string, unknown>>('GET', `/api/v1/inference/services/${baselineServiceId}`, { token });
    expect(res.body.data).toMatchObject({ name: 'Baseline', replicas: 2, cpu: 4, model_version: model.version, framework: 'pytorch' });
  });
});

describe('lists and ids', () => {
  it.each([
    ['page=0', 'page=0', 'page'],
    ['page=abc', 'page=abc', 'page'],
    ['page=-1', 'page=-1', 'page'],
    ['page_size=0', 'page_size=0', 'page_size'],
    ['page given twice', 'page=1&page=2', 'page'],
    ['status unknown', 'status=sleeping', 'status'],
    ['workspace_id text', 'workspace_id=abc', 'workspace_id'],
  ])('GET /inference/services?%s → 400', async (name, query, field) => {
    const res = await call(`list: ${name}`, 'GET', `/api/v1/inference/services?${query}`);
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual([field]);
  });

  it('page_size=1000 is clamped to 100', async () => {
    const res = await call('page_size clamp', 'GET', '/api/v1/inference/services?page_size=1000');
    expect(res.status).toBe(200);
    expect((res.body.data as { pagination: { page_size: number } }).pagination.page_size).toBe(100);
  });

  it('GET /models?page=0 → 400; page_size=1000 clamped', async () => {
    const bad = await call('models: page=0', 'GET', '/api/v1/models?page=0');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(['page']);
    const clamped = await call('models: clamp', 'GET', '/api/v1/models?page_size=1000');
    expect((clamped.body.data as { pagination: { page_size: number } }).pagination.page_size).toBe(100);
  });

  it.each([
    ['GET', '/api/v1/inference/services/not-an-id'],
    ['GET', '/api/v1/inference/services/svc-short'],
    ['GET', '/api/v1/inference/services/svc-doesnotexist0000'],
    ['PATCH', '/api/v1/inference/services/svc-doesnotexist0000'],
    ['POST', '/api/v1/inference/services/not-an-id/stop'],
    ['GET', '/api/v1/models/abc'],
    ['GET', '/api/v1/models/0'],
    ['GET', '/api/v1/models/99999999999'],
    ['GET', '/api/v1/models/999999'],
    ['GET', '/api/v1/nothing-here'],
    ['PUT', '/api/v1/inference/nothing-here'],
    ['GET', '/nothing-here'],
  ])('%s %s → 404 envelope', async (method, urlPath) => {
    const res = await call(`404: ${method} ${urlPath}`, method, urlPath, method === 'PATCH' ? { body: { replicas: 1 } } : {});
    expect(res.status, res.text).toBe(404);
    expect(res.body.code).toBe(40400);
    expect(res.body.message).toBeTruthy();
  });

  it('a malformed %-escape in the path → 400 envelope, not 500', async () => {
    const res = await call('bad escape', 'DELETE', '/api/v1/inference/services/%E0%A4%A');
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe(40000);
  });
});

describe('predict', () => {
  it.each([
    ['no inputs', {}, 'inputs'],
    ['inputs without image', { inputs: {} }, 'inputs.image'],
    ['image not base64', { inputs: { image: 'not base64!' } }, 'inputs.image'],
    ['image a number', { inputs: { image: 5 } }, 'inputs.image'],
    ['top_k zero', { inputs: { image: 'aGVsbG8=' }, parameters: { top_k: 0 } }, 'parameters.top_k'],
  ])('%s → 400', async (name, body, field) => {
    const res = await call(`predict: ${name}`, 'POST', `/api/v1/inference/services/${baselineServiceId}/predict`, { body });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual([field]);
  });
});

describe('models and versions', () => {
  it.each([
    ['name missing', { workspace_id: WS, framework: 'onnx' }, 'name'],
    ['framework unknown', { name: 'm-x', workspace_id: WS, framework: 'caffe' }, 'framework'],
    ['task unknown', { name: 'm-y', workspace_id: WS, framework: 'onnx', task: 'translation' }, 'task'],
    ['workspace_id text', { name: 'm-z', workspace_id: '456', framework: 'onnx' }, 'workspace_id'],
  ])('POST /models %s → 400', async (name, body, field) => {
    const res = await call(`model: ${name}`, 'POST', '/api/v1/models', { body });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual([field]);
  });

  it('POST /models with a taken name → 409', async () => {
    const res = await call('model: duplicate', 'POST', '/api/v1/models', { body: { name: 'colors-main', workspace_id: WS, framework: 'pytorch' } });
    expect(res.status).toBe(409);
  });

  function form(fields: Record<string, string>, file?: Buffer): FormData {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    if (file) f.set('file', new Blob([new Uint8Array(file)]), 'model.onnx');
    return f;
  }

  const versions = () => `/api/v1/models/${model.modelId}/versions`;

  it('a non-ONNX upload → 422 naming file', async () => {
    const res = await call('upload: not onnx', 'POST', versions(), {
      body: form({ version: 'v-bad', labels: '["red","green","blue"]' }, Buffer.from('this is not an onnx model')),
    });
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe(42200);
    expect(fieldsOf(res)).toEqual(['file']);
  });

  it('a form with neither file nor artifact_uri → 400 naming file', async () => {
    const res = await call('upload: no file', 'POST', versions(), { body: form({ version: 'v-nofile', labels: '["a"]' }) });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['file']);
  });

  it('labels that are not JSON → 400 naming labels (and the spooled file is removed)', async () => {
    const res = await call('upload: labels not JSON', 'POST', versions(), {
      body: form({ version: 'v-labels', labels: '[red' }, Buffer.from('whatever')),
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['labels']);
  });

  it('a file under another field name → 400 naming that field', async () => {
    const f = form({ version: 'v-field', labels: '["a"]' });
    f.set('artifact', new Blob([new Uint8Array(Buffer.from('x'))]), 'model.onnx');
    const res = await call('upload: wrong file field', 'POST', versions(), { body: f });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['artifact']);
  });

  it('a truncated multipart body → 400, not 500', async () => {
    const res = await call('upload: truncated multipart', 'POST', versions(), {
      body: '--XYZ\r\nContent-Disposition: form-data; name="version"\r\n\r\nv1',
      contentType: 'multipart/form-data; boundary=XYZ',
    });
    expect(res.status).toBe(400);
  });

  it('JSON without artifact_uri → 400; a refused URI → 422', async () => {
    const missing = await call('upload: json without uri', 'POST', versions(), { body: { version: 'v-uri', labels: ['a'] } });
    expect(missing.status).toBe(400);
    expect(fieldsOf(missing)).toEqual(['artifact_uri']);
    const refused = await call('upload: file uri outside roots', 'POST', versions(), {
      body: { version: 'v-uri', labels: ['a'], artifact_uri: 'file:///etc/passwd' },
    });
    expect(refused.status).toBe(422);
    expect(fieldsOf(refused)).toEqual(['artifact_uri']);
  });

  it('text/plain → 400 naming body', async () => {
    const res = await call('upload: text/plain', 'POST', versions(), { body: 'hello', contentType: 'text/plain' });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['body']);
  });

  it('an existing version → 409; another workspace’s model → 404', async () => {
    const dup = await call('upload: duplicate version', 'POST', versions(), {
      body: form({ version: model.version, labels: '["red","green","blue"]' }, Buffer.from('x')),
    });
    expect(dup.status).toBe(409);
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const hidden = await api('POST', versions(), {
      token: outsider,
      body: form({ version: 'v-hidden', labels: '["a"]' }, Buffer.from('x')),
    });
    answers.push({ name: 'upload: hidden model', res: hidden });
    expect(hidden.status).toBe(404);
  });
});

describe('after the table', () => {
  it('no answer was a 500, and every error used the envelope', () => {
    expect(answers.length).toBeGreaterThan(80);
    const fiveHundreds = answers.filter((a) => a.res.status >= 500).map((a) => `${a.name}: ${a.res.status} ${a.res.text}`);
    expect(fiveHundreds).toEqual([]);
    for (const { name, res } of answers) {
      if (res.status >= 400) {
        expect(res.body.code, name).toBe(res.status * 100);
        expect(typeof res.body.message, name).toBe('string');
        expect(res.text, name).not.toMatch(/at .+\.(ts|js):\d+/); // never a stack trace
      }
    }
  });

  it('nothing was half-written: workspace 456 still holds only the baseline service', async () => {
    expect(await listTotal(WS)).toBe(1);
    expect(await listTotal(SIDE_WS)).toBe(2); // "Taken" and "Idempotent", each once
  });

  it('the model still has only its first version, and no upload was left in the spool', async () => {
    const res = await api<{ versions: { version: string }[] }>('GET', `/api/v1/models/${model.modelId}`, { token });
    expect(res.body.data!.versions.map((v) => v.version)).toEqual([model.version]);
    expect(await readdir(path.join(platform.dataDir, 'uploads'))).toEqual([]);
  });
});
