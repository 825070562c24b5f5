import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import {
  colorImage,
  PlatformClient,
  PREDICT_PATHS,
  predictionProblem,
  predictVia,
  waitFor,
  type ColorName,
} from '../support/client.js';
import { isRunning, replicaPids } from '../support/replicas.js';

const WS = 31;

/**
 * The whole life of one service, as a user drives it through the public API: create → running with real
 * replica processes → predictions through REST, the data plane and GraphQL → stop → start → delete.
 * The tests run in order and share the service.
 */
describe('service lifecycle end to end (real replica processes)', () => {
  let p: TestPlatform;
  let api: PlatformClient;
  let id: string;
  let endpointUrl: string;
  let firstPids: number[] = [];

  beforeAll(async () => {
    p = await startTestPlatform();
    api = new PlatformClient(p.url, await p.token({ sub: 'lifecycle', workspaces: [WS] }));
    const model = await p.registerColorModel(WS, api.token, { name: 'lifecycle-colours', version: 'v1' });
    id = await api.createService({ name: 'lifecycle', workspace_id: WS, model_id: model.modelId, model_version: 'v1', replicas: 2 });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('comes up running with 2 ready replicas, each a model-server process', async () => {
    const detail = await api.waitRunning(id, 2);
    expect(detail).toMatchObject({ status: 'running', replicas: 2, ready_replicas: 2, status_reason: null });
    endpointUrl = detail.endpoint_url;
    expect(endpointUrl).toMatch(new RegExp(`/inference/${id}$`));
    firstPids = replicaPids(id);
    expect(firstPids).toHaveLength(2);
  }, 60_000);

  const samples: [ColorName, 'png' | 'jpeg', number, number][] = [
    ['red', 'png', 64, 48],
    ['green', 'png', 200, 120],
    ['blue', 'png', 64, 48],
    ['red', 'jpeg', 200, 120],
    ['green', 'jpeg', 64, 48],
    ['blue', 'jpeg', 200, 120],
  ];

  it.each(PREDICT_PATHS)('predicts the right colour for PNG and JPEG of other sizes than 32×32 through %s', async (path) => {
    for (const [color, format, width, height] of samples) {
      const outcome = await predictVia(api, path, { id, endpointUrl }, await colorImage(color, format, width, height));
      expect(predictionProblem(outcome, color), `${color} ${format} ${width}×${height}`).toBeNull();
      const predictions = outcome.predictions!;
      // top_k defaults to 5 and is capped at the 3 classes; softmax of the logits sums to 1.
      expect(predictions.map((x) => x.class).sort()).toEqual([...COLOR_LABELS].sort());
      expect(predictions.reduce((sum, x) => sum + x.confidence, 0)).toBeCloseTo(1, 4);
      expect(predictions[0].confidence).toBeGreaterThan(0.9);
    }
    // A data: URL prefix and top_k are honoured the same way.
    const image = `data:image/png;base64,${await colorImage('blue', 'png', 20, 30)}`;
    const top1 = await predictVia(api, path, { id, endpointUrl }, image, { top_k: 1 });
    expect(predictionProblem(top1, 'blue')).toBeNull();
    expect(top1.predictions).toHaveLength(1);
  }, 30_000);

  it('serves Open Inference Protocol v2 metadata and infer at {endpoint_url}/v2', async () => {
    const meta = await api.fetchJson(`${endpointUrl}/v2/models/${id}`, 'GET');
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({
      name: id,
      versions: ['v1'],
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 3] }],
      execution_provider: 'cpu',
    });
    // A mostly-green NCHW tensor: the model's raw scores put green (index 1) first.
    const plane = (v: number) => new Array<number>(32 * 32).fill(v);
    const infer = await api.fetchJson(`${endpointUrl}/v2/models/${id}/infer`, 'POST', {
      id: 'req-1',
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: [...plane(0.1), ...plane(0.9), ...plane(0.2)] }],
    });
    expect(infer.status, JSON.stringify(infer.body)).toBe(200);
    expect(infer.body).toMatchObject({ model_name: id, model_version: 'v1', id: 'req-1' });
    const scores = infer.body.outputs[0];
    expect(scores).toMatchObject({ name: 'scores', datatype: 'FP32', shape: [1, 3] });
    expect(scores.data.indexOf(Math.max(...scores.data))).toBe(1);
    // The binary tensor data extension through the router: raw FP32 bytes in, raw bytes out, same scores.
    const bytes = Buffer.from(new Float32Array([...plane(0.1), ...plane(0.9), ...plane(0.2)]).buffer);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', parameters: { binary_data_size: bytes.length } }], parameters: { binary_data_output: true } }));
    const binary = await fetch(`${endpointUrl}/v2/models/${id}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, bytes]),
    });
    expect(binary.status).toBe(200);
    const answer = Buffer.from(await binary.arrayBuffer());
    const length = Number(binary.headers.get('inference-header-content-length'));
    expect(JSON.parse(answer.subarray(0, length).toString('utf8')).outputs).toEqual([{ name: 'scores', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }]);
    const raw = answer.subarray(length);
    expect(Array.from({ length: 3 }, (_, i) => raw.readFloatLE(4 * i))).toEqual(scores.data.map((v: number) => Math.fround(v)));
    expect((await api.fetchJson(`${endpointUrl}/v2/health/ready`, 'GET')).status).toBe(200);
  });

  it('stops: stopping, then stopped, replica processes gone, predict 409 (40900) on every path', async () => {
    await api.expectOk('POST', `/inference/services/${id}/stop`);
    // The gateway records the intent at once; the processes go in the background, so quickly that a loaded test
    // machine may read the detail only once they are gone: the history says it went through `stopping`.
    expect(['stopping', 'stopped']).toContain((await api.detail(id)).status);
    const stopped = await api.waitForDetail(id, (d) => d.status === 'stopped', 'stopped');
    expect(stopped.ready_replicas).toBe(0);
    const statuses = (await api.events(id)).map((e) => e.status);
    expect(statuses.slice(-2)).toEqual(['stopping', 'stopped']);
    await waitFor(() => replicaPids(id), (pids) => pids.length === 0, 'the replica processes are gone', 10_000);
    for (const pid of firstPids) expect(isRunning(pid), `pid ${pid} still runs`).toBe(false);

    const image = await colorImage('red', 'png', 64, 48);
    for (const path of PREDICT_PATHS) {
      const outcome = await predictVia(api, path, { id, endpointUrl }, image);
      expect({ path, status: outcome.status, code: outcome.code }).toEqual({ path, status: 409, code: 40900 });
    }
    // Stop is idempotent.
    await api.expectOk('POST', `/inference/services/${id}/stop`);
    expect((await api.detail(id)).status).toBe('stopped');
  }, 60_000);

  it('starts again: running with 2 new replica processes that predict', async () => {
    const started = await api.expectOk('POST', `/inference/services/${id}/start`);
    expect(['creating', 'running']).toContain(started.status);
    await api.waitRunning(id, 2);
    const pids = replicaPids(id);
    expect(pids).toHaveLength(2);
    expect(pids.filter((pid) => firstPids.includes(pid))).toEqual([]);
    for (const path of PREDICT_PATHS) {
      expect(predictionProblem(await predictVia(api, path, { id, endpointUrl }, await colorImage('green', 'jpeg', 64, 48)), 'green')).toBeNull();
    }
  }, 60_000);

  it('records the lifecycle history in order', async () => {
    const events = await api.events(id);
    const times = events.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events[0]).toMatchObject({ type: 'created', status: 'creating' });
    // The milestones appear in this order (other status changes may sit between them).
    const milestones: [string, string][] = [
      ['created', 'creating'],
      ['status_changed', 'running'],
      ['stop_requested', 'stopping'],
      ['status_changed', 'stopped'],
      ['start_requested', 'creating'],
      ['status_changed', 'running'],
    ];
    let at = 0;
    for (const [type, status] of milestones) {
      const found = events.findIndex((e, i) => i >= at && e.type === type && e.status === status);
      expect(found, `${type}/${status} after #${at} in ${JSON.stringify(events.map((e) => `${e.type}/${e.status}`))}`).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
  });

  let deletedPids: number[] = [];

  it('deletes: 204 with no body, and the service is hidden at once on every path (GET, REST, GraphQL and data-plane predict)', async () => {
    deletedPids = replicaPids(id);
    expect(deletedPids).toHaveLength(2);
    const image = await colorImage('red', 'png', 64, 48);
    const res = await fetch(`${p.url}/api/v1/inference/services/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${api.token}` } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    // DESIGN §3: delete hides the service at once, while its replicas are released in the background. The
    // three ways in must agree: a deleted service is not found, not "stopping".
    expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);
    const answers = [];
    for (const path of PREDICT_PATHS) {
      const outcome = await predictVia(api, path, { id, endpointUrl }, image);
      answers.push({ path, status: outcome.status, code: outcome.code });
    }
    expect(answers).toEqual(PREDICT_PATHS.map((path) => ({ path, status: 404, code: 40400 })));
  }, 30_000);

  it('releases the deleted service: replica processes gone, data plane 404', async () => {
    expect(deletedPids).toHaveLength(2);
    await waitFor(() => replicaPids(id), (left) => left.length === 0, 'the replica processes are gone', 10_000);
    for (const pid of deletedPids) expect(isRunning(pid), `pid ${pid} still runs`).toBe(false);
    expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);
    const image = await colorImage('red', 'png', 64, 48);
    const dataPlane = await predictVia(api, 'data-plane', { id, endpointUrl }, image);
    expect({ status: dataPlane.status, code: dataPlane.code }).toEqual({ status: 404, code: 40400 });
    expect((await api.fetchJson(`${endpointUrl}/v2/models/${id}`, 'GET')).status).toBe(404);
  }, 30_000);
});
