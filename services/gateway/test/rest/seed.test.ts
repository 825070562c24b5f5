import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS, solidImage } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { waitFor } from '../../../../test/support/client.js';
import { ISO_UTC, SERVICE_ID, restClient, type Api } from './rest-client.js';

/**
 * seed-api.md, route by route, over real HTTP against the real standalone composition (SQLite, REST).
 * Every field of every example response is checked; values are those the seed's example request sends,
 * except model_id, which must name a model that exists (a registered colour classifier).
 */

const WORKSPACE = 456;
/** What a listed or detailed service may show shortly after create: the provisioner may have it up already. */
const COMING_UP = /^(creating|running)$/;

interface Created {
  service_id: string;
  name: string;
  status: string;
  created_at: string;
}

let platform: TestPlatform;
let api: Api;
let token: string;
let modelId: number;
let seedBody: Record<string, unknown>;
let publicUrl: string;

beforeAll(async () => {
  // The seed's example asks for gpu: 1 per replica. The local runtime only starts replicas it can give GPUs
  // to, so the pool is sized explicitly (enough for every service this file creates) rather than taken from
  // whatever `nvidia-smi` says on the machine running the tests; without CUDA a replica runs on the CPU.
  platform = await startTestPlatform({ env: { RGPU_LOCAL_GPUS: '32' } });
  api = restClient(platform.url);
  token = await platform.token({ sub: 'alice', workspaces: [WORKSPACE] });
  ({ modelId } = await platform.registerColorModel(WORKSPACE, token, { name: 'resnet-seed' }));
  publicUrl = `http://localhost:${new URL(platform.url).port}`;
  seedBody = {
    name: 'ResNet Inference',
    description: '图像分类推理服务',
    workspace_id: WORKSPACE,
    model_id: modelId,
    model_version: 'v1.0',
    framework: 'pytorch',
    cpu: 4,
    memory: 17179869184,
    gpu: 1,
    replicas: 2,
  };
});

afterAll(async () => {
  await platform?.stop();
});

async function create(overrides: Record<string, unknown> = {}): Promise<Created> {
  const res = await api<Created>('POST', '/api/v1/inference/services', { token, body: { ...seedBody, ...overrides } });
  expect(res.status, res.text).toBe(201);
  return res.body.data!;
}

/** Polls the detail until the service runs with every replica ready (the seed's services come up in well under a second). */
async function waitRunning(id: string): Promise<Record<string, unknown>> {
  const res = await waitFor(
    () => api<Record<string, unknown>>('GET', `/api/v1/inference/services/${id}`, { token }),
    (r) => r.status === 200 && r.body.data!.status === 'running' && r.body.data!.ready_replicas === r.body.data!.replicas,
    `${id} running with every replica ready`,
  );
  return res.body.data!;
}

describe('seed §1 POST /api/v1/inference/services', () => {
  it('answers 201 with {service_id, name, status: creating, created_at} and the seed message', async () => {
    const before = Date.now();
    const res = await api<Created>('POST', '/api/v1/inference/services', { token, body: seedBody });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'data', 'message']);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('推理服务创建成功');
    const data = res.body.data!;
    expect(Object.keys(data).sort()).toEqual(['created_at', 'name', 'service_id', 'status']);
    expect(data.service_id).toMatch(SERVICE_ID);
    expect(data.name).toBe('ResNet Inference');
    expect(data.status).toBe('creating');
    expect(data.created_at).toMatch(ISO_UTC);
    const at = Date.parse(data.created_at);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('speaks English on Accept-Language: en', async () => {
    const res = await api('POST', '/api/v1/inference/services', {
      token,
      body: { ...seedBody, name: 'ResNet English' },
      headers: { 'accept-language': 'en-US,en;q=0.9' },
    });
    expect(res.status).toBe(201);
    expect(res.body.message).toBe('Inference service created');
  });
});

describe('seed §2 GET /api/v1/inference/services', () => {
  it('lists with the seed item fields and pagination {page: 1, page_size: 20, total, total_pages}', async () => {
    const third = await create({ name: 'ResNet Third', replicas: 3 });
    const res = await api<{ items: Record<string, unknown>[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services', { token });
    expect(res.status).toBe(200);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('success');
    const { items, pagination } = res.body.data!;
    // Three services now exist in the workspace, as in the seed's example.
    expect(pagination).toEqual({ page: 1, page_size: 20, total: 3, total_pages: 1 });
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['created_at', 'endpoint_url', 'name', 'replicas', 'service_id', 'status']);
      expect(item.service_id).toMatch(SERVICE_ID);
      expect(item.endpoint_url).toBe(`${publicUrl}/inference/${item.service_id as string}`);
      expect(item.created_at).toMatch(ISO_UTC);
      expect(item.status).toMatch(COMING_UP);
    }
    // Newest first.
    expect(items[0]).toEqual({
      service_id: third.service_id,
      name: 'ResNet Third',
      status: expect.stringMatching(COMING_UP),
      endpoint_url: `${publicUrl}/inference/${third.service_id}`,
      replicas: 3,
      created_at: third.created_at,
    });
  });

  it('pages: page_size=2 gives total_pages 2, page 2 holds the rest', async () => {
    const res = await api<{ items: unknown[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services?page=2&page_size=2', { token });
    expect(res.status).toBe(200);
    expect(res.body.data!.pagination).toEqual({ page: 2, page_size: 2, total: 3, total_pages: 2 });
    expect(res.body.data!.items).toHaveLength(1);
  });

  it('shows nothing of a workspace the token may not act in (total_pages 0 when empty)', async () => {
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const res = await api<{ items: unknown[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services', { token: outsider });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ items: [], pagination: { page: 1, page_size: 20, total: 0, total_pages: 0 } });
    // Naming the workspace in the filter does not widen what the token may see.
    const named = await api<{ pagination: Record<string, number> }>('GET', `/api/v1/inference/services?workspace_id=${WORKSPACE}`, { token: outsider });
    expect(named.status).toBe(200);
    expect(named.body.data!.pagination.total).toBe(0);
  });
});

describe('seed §3 GET /api/v1/inference/services/{service_id}', () => {
  it('returns every seed field with the values sent, plus the documented additions', async () => {
    const created = await create({ name: 'ResNet Detail' });
    const expected = {
      service_id: created.service_id,
      name: 'ResNet Detail',
      description: '图像分类推理服务',
      model_id: modelId,
      model_version: 'v1.0',
      framework: 'pytorch',
      endpoint_url: `${publicUrl}/inference/${created.service_id}`,
      cpu: 4,
      memory: 17179869184,
      gpu: 1,
      replicas: 2,
      created_at: created.created_at,
      workspace_id: WORKSPACE,
    };
    const res = await api<Record<string, unknown>>('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('success');
    const data = res.body.data!;
    expect(Object.keys(data).sort()).toEqual(
      [
        'service_id', 'name', 'description', 'status', 'model_id', 'model_version', 'framework', 'endpoint_url',
        'cpu', 'memory', 'gpu', 'replicas', 'created_at',
        'workspace_id', 'ready_replicas', 'status_reason', 'status_message', 'updated_at',
        // An addition to the seed's shape (issue 10): each replica's state.
        'replica_states',
      ].sort(),
    );
    // Right after create it is coming up (or already up): the spec reads back as sent either way.
    expect(data).toMatchObject(expected);
    expect(data.status).toMatch(COMING_UP);
    expect(data.updated_at).toMatch(ISO_UTC);

    // Once up, every field is exact: all replicas ready, no reason to report.
    const running = await waitRunning(created.service_id);
    expect(running).toEqual({
      ...expected,
      status: 'running',
      ready_replicas: 2,
      status_reason: null,
      status_message: null,
      updated_at: expect.stringMatching(ISO_UTC),
      replica_states: expect.any(Array),
    });
    expect(Date.parse(running.updated_at as string)).toBeGreaterThanOrEqual(Date.parse(created.created_at));
  });

  it('is 404 for a service of another workspace, and for an id that cannot exist', async () => {
    const created = await create({ name: 'ResNet Hidden' });
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const hidden = await api('GET', `/api/v1/inference/services/${created.service_id}`, { token: outsider });
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe(40400);
    const junk = await api('GET', '/api/v1/inference/services/not-a-service', { token });
    expect(junk.status).toBe(404);
    expect(junk.body.code).toBe(40400);
  });
});

describe('seed §4 POST /api/v1/inference/services/{service_id}/predict', () => {
  it('answers 200 {predictions: [{class, confidence}]} sorted by confidence once the service runs', async () => {
    const created = await create({ name: 'ResNet Predict' });
    await waitRunning(created.service_id);
    const red = await solidImage('red', { format: 'png', width: 64, height: 64 });
    const res = await api<{ predictions: { class: string; confidence: number }[] }>(
      'POST',
      `/api/v1/inference/services/${created.service_id}/predict`,
      { token, body: { inputs: { image: red.toString('base64') } } },
    );
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'data', 'message']);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('success');
    expect(Object.keys(res.body.data!)).toEqual(['predictions']);
    const { predictions } = res.body.data!;
    // top_k defaults to 5, capped at the model's three classes: every class once.
    expect(predictions.map((p) => p.class).sort()).toEqual([...COLOR_LABELS].sort());
    for (const p of predictions) {
      expect(Object.keys(p).sort()).toEqual(['class', 'confidence']);
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
    const confidences = predictions.map((p) => p.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    expect(predictions[0].class).toBe('red');
    expect(predictions[0].confidence).toBeGreaterThan(0.5);
    expect(confidences.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  });
});

describe('seed §4 predict while no replica is ready', () => {
  // A deterministic "not ready": one GPU on the machine, taken by a running service; a second service asking
  // for a GPU waits in creating (insufficient_gpu) and has no replica to answer.
  let small: TestPlatform;
  let smallApi: Api;
  let smallToken: string;
  let waiting: string;

  beforeAll(async () => {
    small = await startTestPlatform({ env: { RGPU_LOCAL_GPUS: '1' } });
    smallApi = restClient(small.url);
    smallToken = await small.token({ sub: 'alice', workspaces: [WORKSPACE] });
    const model = await small.registerColorModel(WORKSPACE, smallToken, { name: 'resnet-one-gpu' });
    const body = { ...seedBody, model_id: model.modelId, replicas: 1 };
    const createOn = async (name: string) => {
      const res = await smallApi<Created>('POST', '/api/v1/inference/services', { token: smallToken, body: { ...body, name } });
      expect(res.status, res.text).toBe(201);
      return res.body.data!.service_id;
    };
    const detailOf = (id: string) => smallApi<Record<string, unknown>>('GET', `/api/v1/inference/services/${id}`, { token: smallToken });
    const holder = await createOn('ResNet GPU Holder');
    await waitFor(() => detailOf(holder), (r) => r.body.data?.status === 'running', 'the GPU holder runs');
    waiting = await createOn('ResNet GPU Waiter');
    const detail = await waitFor(() => detailOf(waiting), (r) => r.body.data?.status_reason === 'insufficient_gpu', 'the second service waits for a GPU');
    expect(detail.body.data).toMatchObject({ status: 'creating', ready_replicas: 0, status_reason: 'insufficient_gpu' });
  });
  afterAll(async () => {
    await small?.stop();
  });

  it('answers 503 (50300) with Retry-After, in Chinese by default and English on request', async () => {
    const red = (await solidImage('red', { format: 'png' })).toString('base64');
    const res = await smallApi('POST', `/api/v1/inference/services/${waiting}/predict`, { token: smallToken, body: { inputs: { image: red } } });
    expect(res.status, res.text).toBe(503);
    expect(res.body.code).toBe(50300);
    expect(res.body.message).toMatch(/副本/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const en = await smallApi('POST', `/api/v1/inference/services/${waiting}/predict`, {
      token: smallToken,
      body: { inputs: { image: red } },
      headers: { 'accept-language': 'en' },
    });
    expect(en.status).toBe(503);
    expect(en.body.code).toBe(50300);
    expect(en.body.message).toMatch(/replica/i);
  });
});

describe('seed §5 POST /api/v1/inference/services/{service_id}/stop', () => {
  it('answers 200 {code: 0, message: 推理服务停止中} with no data, idempotently, in English on request', async () => {
    const created = await create({ name: 'ResNet Stop' });
    const res = await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 0, message: '推理服务停止中' });

    const again = await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, {
      token,
      headers: { 'accept-language': 'en' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ code: 0, message: 'Inference service is stopping' });

    const detail = await api<{ status: string }>('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(['stopping', 'stopped']).toContain(detail.body.data!.status);
  });

  it('makes predict a 409 on a stopped service', async () => {
    const created = await create({ name: 'ResNet Stopped Predict' });
    await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, { token });
    const res = await api('POST', `/api/v1/inference/services/${created.service_id}/predict`, {
      token,
      body: { inputs: { image: 'aGVsbG8=' } },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe(40900);
  });
});

describe('seed §6 DELETE /api/v1/inference/services/{service_id}', () => {
  it('answers 204 with no body at all, after which the service is gone (404)', async () => {
    const created = await create({ name: 'ResNet Delete' });
    const res = await api('DELETE', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('content-length') ?? '0').toBe('0');

    const gone = await api('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(40400);
    expect(gone.body.message).toContain(created.service_id);

    const again = await api('DELETE', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(again.status).toBe(404);
  });
});

describe('authentication on every /api/v1 route', () => {
  it.each([
    ['GET', '/api/v1/inference/services'],
    ['POST', '/api/v1/inference/services'],
    ['GET', '/api/v1/inference/services/svc-0123456789abcdef'],
    ['POST', '/api/v1/inference/services/svc-0123456789abcdef/stop'],
    ['DELETE', '/api/v1/inference/services/svc-0123456789abcdef'],
    ['GET', '/api/v1/models'],
    ['GET', '/api/v1/no-such-route'],
  ])('%s %s without a token → 401 envelope', async (method, path) => {
    const res = await api(method, path);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe(40100);
    expect(res.body.message).toBeTruthy();
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await platform.token({ sub: 'alice', workspaces: [WORKSPACE] });
    const [h, p] = forged.split('.');
    const res = await api('GET', '/api/v1/inference/services', { token: `${h}.${p}.AAAA` });
    expect(res.status).toBe(401);
  });
});
