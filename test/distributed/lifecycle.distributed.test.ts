import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, PREDICT_PATHS, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { PredictionLoad } from '../support/load.js';
import { replicaPids } from '../support/replicas.js';

const WS = 71;

/**
 * The whole life of one service through three separate processes (gateway, provisioner, router) that share only
 * the NATS server and the SQLite file: create → running → predict on REST, the data plane and GraphQL → stop →
 * start → PATCH replicas and model_version under load with zero failed predictions → delete → 404 everywhere.
 * REST and GraphQL predict go gateway → router over HTTP; `endpoint_url` is the router's address.
 */
describe('distributed lifecycle: gateway, provisioner and router as separate processes over NATS', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let id: string;
  let endpointUrl: string;
  const createRequestId = `corr-create-${Date.now().toString(36)}`;

  beforeAll(async () => {
    stack = await DistributedStack.start();
    api = new PlatformClient(stack.url, await stack.token({ sub: 'distributed', workspaces: [WS] }));
    const modelId = await stack.registerColorModel(WS, api.token, 'v1');
    await stack.uploadVersion(modelId, 'v2', api.token);
    const res = await fetch(`${stack.url}/api/v1/inference/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'x-request-id': createRequestId },
      body: JSON.stringify({ name: 'distributed', workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas: 2 }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(createRequestId);
    id = ((await res.json()) as { data: { service_id: string } }).data.service_id;
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('comes up running with 2 replicas started by the provisioner process, endpoint_url on the router', async () => {
    const detail = await api.waitRunning(id, 2, 60_000);
    endpointUrl = detail.endpoint_url;
    expect(endpointUrl).toBe(`${stack.routers[0].url}/inference/${id}`);
    expect(replicaPids(id)).toHaveLength(2);
  }, 90_000);

  it('carries the create request’s x-request-id through the intent into every process’s logs', async () => {
    await waitFor(() => stack.linesWith(createRequestId), (found) => found.router.length > 0, 'the router logs the correlation id', 10_000);
    const found = stack.linesWith(createRequestId);
    expect(found.gateway.some((line) => line.requestId === createRequestId && line.status === 201)).toBe(true);
    expect(found.provisioner.length, 'provisioner log lines with the request id').toBeGreaterThan(0);
    expect(found.router.some((line) => line.msg === 'route updated' && line.correlationId === createRequestId)).toBe(true);
  }, 20_000);

  it.each(PREDICT_PATHS)('predicts the right colour through %s', async (path) => {
    for (const [color, format] of [
      ['red', 'png'],
      ['green', 'jpeg'],
      ['blue', 'png'],
    ] as const) {
      const outcome = await predictVia(api, path, { id, endpointUrl }, await colorImage(color, format, 64, 48));
      expect(predictionProblem(outcome, color), `${path} ${color}`).toBeNull();
    }
  }, 30_000);

  it('stops (predict 409 everywhere) and starts again (predicting)', async () => {
    // Through GraphQL this time, with the client's own request id: it reaches the router's log as well.
    const stopRequestId = `corr-stop-${Date.now().toString(36)}`;
    const stop = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'x-request-id': stopRequestId },
      body: JSON.stringify({ query: 'mutation ($id: ID!) { stopInferenceService(id: $id) { id } }', variables: { id } }),
    });
    expect(await stop.json()).toEqual({ data: { stopInferenceService: { id } } });
    await api.waitForDetail(id, (d) => d.status === 'stopped', 'stopped', 30_000);
    await waitFor(() => replicaPids(id), (pids) => pids.length === 0, 'the replicas are gone', 15_000);
    const image = await colorImage('red', 'png', 64, 48);
    // The router learns of the stop by event: a moment after the store says stopped at the latest.
    await waitFor(
      async () => Promise.all(PREDICT_PATHS.map(async (path) => (await predictVia(api, path, { id, endpointUrl }, image)).code)),
      (codes) => codes.every((code) => code === 40900),
      'predict refused with 40900 on every path',
      5_000,
    );

    expect(stack.linesWith(stopRequestId).router.some((line) => line.msg === 'route updated' && line.correlationId === stopRequestId)).toBe(true);

    await api.expectOk('POST', `/inference/services/${id}/start`);
    await api.waitRunning(id, 2, 60_000);
    for (const path of PREDICT_PATHS) {
      expect(predictionProblem(await predictVia(api, path, { id, endpointUrl }, image), 'red'), path).toBeNull();
    }
  }, 120_000);

  it('scales and rolls a new model_version under load on all three paths without one failed prediction', async () => {
    const loads = await Promise.all(PREDICT_PATHS.map((path) => new PredictionLoad({ client: api, service: { id, endpointUrl }, workers: 2, path }).start()));
    await Promise.all(loads.map((load) => load.progress(10)));

    await api.expectOk('PATCH', `/inference/services/${id}`, { replicas: 3 });
    await api.waitRunning(id, 3, 60_000);
    await Promise.all(loads.map((load) => load.progress(10)));

    await api.expectOk('PATCH', `/inference/services/${id}`, { model_version: 'v2' });
    await api.waitForDetail(id, (d) => d.status === 'running' && d.model_version === 'v2' && d.ready_replicas === 3, 'running v2 with 3 ready', 90_000);
    await Promise.all(loads.map((load) => load.progress(10)));

    await api.expectOk('PATCH', `/inference/services/${id}`, { replicas: 1 });
    await api.waitRunning(id, 1, 60_000);
    await waitFor(() => replicaPids(id), (pids) => pids.length === 1, 'one replica process left', 20_000);
    await Promise.all(loads.map((load) => load.progress(10)));

    const results = await Promise.all(loads.map((load) => load.stop()));
    for (const [i, result] of results.entries()) {
      expect(result.failures, `${PREDICT_PATHS[i]}: ${JSON.stringify(result.failures.slice(0, 3))}`).toEqual([]);
      expect(result.ok).toBeGreaterThanOrEqual(40);
    }
  }, 240_000);

  it('deletes: 204, then 404 on REST, GraphQL and the data plane, and the replicas go', async () => {
    const res = await fetch(`${stack.url}/api/v1/inference/services/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${api.token}` } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    // The gateway reads the store: hidden at once.
    expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);
    const image = await colorImage('red', 'png', 64, 48);
    for (const path of ['rest', 'graphql'] as const) {
      const outcome = await predictVia(api, path, { id, endpointUrl }, image);
      expect({ path, status: outcome.status, code: outcome.code }).toEqual({ path, status: 404, code: 40400 });
    }
    const query = await api.graphql('query ($id: ID!) { inferenceService(id: $id) { id status } }', { id });
    expect(query.body).toEqual({ data: { inferenceService: null } });
    // The router hears of it by event, moments later.
    await waitFor(async () => (await predictVia(api, 'data-plane', { id, endpointUrl }, image)).code, (code) => code === 40400, 'the data plane answers 404', 5_000);
    expect((await api.fetchJson(`${endpointUrl}/v2/models/${id}`, 'GET')).status).toBe(404);
    await waitFor(() => replicaPids(id), (pids) => pids.length === 0, 'the replica processes are gone', 20_000);
  }, 60_000);
});
