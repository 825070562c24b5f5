import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, COLOR_LABELS } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { waitFor } from '../../../../test/support/client.js';
import { expectHistory } from '../../../../test/support/history.js';
import { ISO_UTC, restClient, type Api } from './rest-client.js';

/** DESIGN §3 additions: start, PATCH, events, the model routes, and the unauthenticated probes. */

const WS = 321;

let platform: TestPlatform;
let api: Api;
let token: string;
let model: { modelId: number; version: string };

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ sub: 'carol', workspaces: [WS] });
  model = await platform.registerColorModel(WS, token, { name: 'colors-additions' });
});

afterAll(async () => {
  await platform?.stop();
});

async function createService(name: string): Promise<string> {
  const res = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
    token,
    body: { name, workspace_id: WS, model_id: model.modelId, model_version: model.version, replicas: 1 },
  });
  expect(res.status, res.text).toBe(201);
  return res.body.data!.service_id;
}

describe('probes and metrics (no authentication)', () => {
  it('GET /healthz → 200 {status: ok}', async () => {
    const res = await api('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 while the store answers', async () => {
    const res = await api('GET', '/readyz');
    expect(res.status).toBe(200);
  });

  it('GET /metrics counts requests by route pattern, never by raw path', async () => {
    const id = await createService('metrics-probe');
    await api('GET', `/api/v1/inference/services/${id}`, { token });
    const res = await fetch(`${platform.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/inference\/services\/:id",status="200"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/inference\/services\/:id"/);
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/api\/v1\/inference\/services",status="201"\}/);
    // No HTTP series names the raw path (the per-service gauges rgpu_service_* do carry the id, as a label).
    expect(text.split('\n').filter((l) => l.startsWith('http_') && l.includes(id))).toEqual([]);
  });

  it('echoes a safe X-Request-Id and invents one otherwise', async () => {
    const kept = await api('GET', '/healthz', { headers: { 'x-request-id': 'trace-42' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42');
    const fresh = await api('GET', '/healthz', { headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('service lifecycle additions', () => {
  it('PATCH changes replicas and description and answers the detail', async () => {
    const id = await createService('patch-me');
    const res = await api<Record<string, unknown>>('PATCH', `/api/v1/inference/services/${id}`, {
      token,
      body: { replicas: 3, description: 'scaled' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.message).toBe('推理服务更新成功');
    expect(res.body.data).toMatchObject({ service_id: id, replicas: 3, description: 'scaled', name: 'patch-me' });
    const detail = await api<Record<string, unknown>>('GET', `/api/v1/inference/services/${id}`, { token });
    expect(detail.body.data).toMatchObject({ replicas: 3, description: 'scaled' });
  });

  it('the detail lists each replica\'s state: 2 ready replicas, then 1 after a scale down', async () => {
    const created = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
      token,
      body: { name: 'replica-states', workspace_id: WS, model_id: model.modelId, model_version: model.version, replicas: 2 },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.data!.service_id;
    type States = { replica_id: string; generation: number; state: string; restarts: number; device: string | null; message: string | null }[];
    const detailOf = () => api<{ status: string; replica_states: States }>('GET', `/api/v1/inference/services/${id}`, { token });
    const two = await waitFor(detailOf, (r) => r.body.data!.status === 'running', `${id} running`, 60_000);
    const states = two.body.data!.replica_states;
    expect(states.map((r) => [r.state, r.restarts, r.generation])).toEqual([['ready', 0, 1], ['ready', 0, 1]]);
    // Distinct replicas, sorted by id, and not the router's addresses.
    expect(new Set(states.map((r) => r.replica_id)).size).toBe(2);
    expect(states.map((r) => r.replica_id)).toEqual(states.map((r) => r.replica_id).sort());
    expect(Object.keys(states[0]).sort()).toEqual(['device', 'generation', 'message', 'replica_id', 'restarts', 'state']);

    const scaled = await api('PATCH', `/api/v1/inference/services/${id}`, { token, body: { replicas: 1 } });
    expect(scaled.status, scaled.text).toBe(200);
    const one = await waitFor(
      detailOf,
      (r) => r.body.data!.status === 'running' && r.body.data!.replica_states.length === 1,
      `${id} down to one replica`,
      60_000,
    );
    expect(one.body.data!.replica_states[0]).toMatchObject({ state: 'ready', restarts: 0 });
    expect(states.map((r) => r.replica_id)).toContain(one.body.data!.replica_states[0].replica_id);
  });

  it('the history names changed fields in the REST API\'s snake_case', async () => {
    const own = await platform.registerColorModel(WS, token, { name: 'colors-history' });
    const created = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
      token,
      body: { name: 'patch-history', workspace_id: WS, model_id: own.modelId, model_version: own.version },
    });
    const id = created.body.data!.service_id;
    const form = new FormData();
    form.set('version', 'v2.0');
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
    const uploaded = await api('POST', `/api/v1/models/${own.modelId}/versions`, { token, body: form });
    expect(uploaded.status, uploaded.text).toBe(201);
    const res = await api('PATCH', `/api/v1/inference/services/${id}`, {
      token,
      body: { model_version: 'v2.0', replicas: 2, description: 'v2' },
    });
    expect(res.status, res.text).toBe(200);
    const events = await api<{ items: { type: string; message: string }[] }>('GET', `/api/v1/inference/services/${id}/events`, {
      token,
      headers: { 'accept-language': 'en' },
    });
    const updated = events.body.data!.items.find((e) => e.type === 'updated');
    expect(updated?.message).toMatch(/model_version, replicas, description/);
    expect(updated?.message).not.toMatch(/modelVersion/);
  });

  it('stop then start: 200 with the detail, and the events tell the story', async () => {
    const id = await createService('stop-start');
    const detailOf = () => api<Record<string, unknown>>('GET', `/api/v1/inference/services/${id}`, { token });
    expect((await api('POST', `/api/v1/inference/services/${id}/stop`, { token })).status).toBe(200);
    // The local runtime stops a replica fast: the service may already be stopped by the time it is read.
    expect((await detailOf()).body.data!.status).toMatch(/^(stopping|stopped)$/);
    await waitFor(detailOf, (r) => r.body.data!.status === 'stopped', `${id} stopped`);

    const started = await api<Record<string, unknown>>('POST', `/api/v1/inference/services/${id}/start`, { token });
    expect(started.status, started.text).toBe(200);
    expect(started.body.message).toBe('推理服务启动中');
    // The answer is what the start wrote; the provisioner takes it from there.
    expect(started.body.data).toMatchObject({ service_id: id, status: 'creating', status_reason: 'start_requested', ready_replicas: 0 });
    const running = await waitFor(detailOf, (r) => r.body.data!.status === 'running', `${id} running again`);
    expect(running.body.data).toMatchObject({ ready_replicas: 1, status_reason: null });

    const events = await api<{ items: Record<string, unknown>[] }>('GET', `/api/v1/inference/services/${id}/events`, { token });
    expect(events.status).toBe(200);
    const items = events.body.data!.items as { type: string; status: string; at: string }[];
    // The user's actions in order, with the provisioner's status changes between them.
    expectHistory(items, ['created', 'stop_requested', 'start_requested']);
    for (const e of items) {
      expect(Object.keys(e).sort()).toEqual(['at', 'message', 'reason', 'status', 'type']);
      expect(e.at).toMatch(ISO_UTC);
    }
    expect(items.find((e) => e.type === 'created')).toMatchObject({ status: 'creating' });
    expect(items.find((e) => e.type === 'stop_requested')).toMatchObject({ status: 'stopping' });
    expect(items.find((e) => e.type === 'start_requested')).toMatchObject({ status: 'creating' });
    // Each state the user waited for was recorded: stopped before the start, running after it.
    const startAt = items.findIndex((e) => e.type === 'start_requested');
    expect(items.slice(0, startAt).filter((e) => e.type === 'status_changed').map((e) => e.status)).toContain('stopped');
    expect(items.at(-1)).toMatchObject({ type: 'status_changed', status: 'running' });
  });
});

describe('model routes', () => {
  it('POST /models → 201 with the model in snake_case', async () => {
    const res = await api<Record<string, unknown>>('POST', '/api/v1/models', {
      token,
      body: { name: 'shape-check', workspace_id: WS, framework: 'onnx', task: 'image-classification', description: 'd' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.message).toBe('模型创建成功');
    const data = res.body.data!;
    expect(Object.keys(data).sort()).toEqual(['created_at', 'description', 'framework', 'model_id', 'name', 'task', 'updated_at', 'workspace_id']);
    expect(data).toMatchObject({ name: 'shape-check', workspace_id: WS, framework: 'onnx', task: 'image-classification', description: 'd' });
    expect(Number.isSafeInteger(data.model_id)).toBe(true);
  });

  it('a multipart upload answers 201 with the version signature, shown again in the model detail', async () => {
    const form = new FormData();
    form.set('version', 'v2.0');
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('preprocessing', JSON.stringify({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
    const res = await api<Record<string, unknown>>('POST', `/api/v1/models/${model.modelId}/versions`, { token, body: form });
    expect(res.status, res.text).toBe(201);
    const version = res.body.data!;
    expect(Object.keys(version).sort()).toEqual(
      ['batching', 'created_at', 'format', 'inputs', 'labels', 'model_id', 'outputs', 'preprocessing', 'sha256', 'size_bytes', 'version'],
    );
    expect(version).toMatchObject({
      model_id: model.modelId,
      version: 'v2.0',
      format: 'onnx',
      labels: [...COLOR_LABELS],
      preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    });
    expect(version.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(version.size_bytes).toBe(colorClassifierOnnx().length);

    const detail = await api<{ versions: Record<string, unknown>[] }>('GET', `/api/v1/models/${model.modelId}`, { token });
    expect(detail.status).toBe(200);
    expect(detail.body.data!.versions.map((v) => v.version)).toEqual([model.version, 'v2.0']);
    expect(detail.body.data!.versions[1]).toEqual(version);
  });

  it('GET /models lists the workspace’s models with pagination', async () => {
    const res = await api<{ items: { model_id: number }[]; pagination: Record<string, number> }>('GET', '/api/v1/models?page_size=1', { token });
    expect(res.status).toBe(200);
    expect(res.body.data!.pagination).toMatchObject({ page: 1, page_size: 1 });
    expect(res.body.data!.pagination.total).toBeGreaterThanOrEqual(2);
    expect(res.body.data!.pagination.total_pages).toBe(res.body.data!.pagination.total);
  });

  it('another workspace’s model is 404', async () => {
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const res = await api('GET', `/api/v1/models/${model.modelId}`, { token: outsider });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe(40400);
  });
});
