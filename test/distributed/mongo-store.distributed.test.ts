import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { startMongoDouble, type MongoDouble } from '@remotegpu/testkit';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';

const WS = 93;
const { MongoClient } = mongoose.mongo;

interface Answer {
  status: number;
  code: number;
  retryAfter: string | null;
  body: unknown;
}

/**
 * The platform as three processes over NATS with its state in MongoDB: gateway, provisioner and router on mongoose,
 * talking to the wire double this test starts (the real driver on the wire, our double behind it). Then the
 * database goes away under load and comes back.
 */
describe('distributed mode on the MongoDB store (mongoose over the wire double)', () => {
  const database = `rgpu_e2e_${randomBytes(3).toString('hex')}`;
  let double: MongoDouble;
  let stack: DistributedStack;
  let api: PlatformClient;
  let modelId: number;
  let mongo: InstanceType<typeof MongoClient>;

  beforeAll(async () => {
    double = await startMongoDouble();
    stack = await DistributedStack.start({ env: { RGPU_STORE_URL: `${double.uri}/${database}` } });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'mongo-e2e', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token, 'v1');
    mongo = new MongoClient(double.uri, { serverSelectionTimeoutMS: 2_000 });
  }, 90_000);

  afterAll(async () => {
    await mongo?.close();
    await stack?.stop();
    await double?.stop();
  }, 60_000);

  const stored = (id: string) => mongo.db(database).collection('services').findOne({ _id: id as never });

  /** A REST call that keeps what a client of a flaky store needs: status, code and Retry-After. */
  async function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${stack.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${api.token}`, 'accept-language': 'en', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as { code?: number }) : null;
    return { status: res.status, code: parsed?.code ?? -1, retryAfter: res.headers.get('retry-after'), body: parsed };
  }

  it('create → running → predict → stop → delete, with the state in MongoDB', async () => {
    const id = await api.createService({ name: 'mongo-lifecycle', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    const detail = await api.waitRunning(id, 1, 60_000);
    for (const path of ['rest', 'data-plane'] as const) {
      const outcome = await predictVia(api, path, { id, endpointUrl: detail.endpoint_url }, await colorImage('green', 'png', 32, 32));
      expect(predictionProblem(outcome, 'green'), path).toBeNull();
    }
    expect(await stored(id)).toMatchObject({ status: 'running', live: true, readyReplicas: 1, events: expect.arrayContaining([expect.objectContaining({ type: 'created' })]) });

    await api.expectOk('POST', `/inference/services/${id}/stop`);
    await api.waitForDetail(id, (d) => d.status === 'stopped', 'stopped', 30_000);
    await waitFor(() => predictVia(api, 'data-plane', { id, endpointUrl: detail.endpoint_url }, 'aGVsbG8='), (o) => o.status === 409, 'predict refused as stopped', 10_000);

    expect((await api.call('DELETE', `/inference/services/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);
    // The provisioner's finalizer purges the record once its replicas are gone.
    await waitFor(() => stored(id), (doc) => doc === null, 'the service document purged', 30_000);
  }, 120_000);

  it('MongoDB restarted under load: 503 with Retry-After meanwhile, nothing half written, everything converges', async () => {
    const steadyId = await api.createService({ name: 'mongo-steady', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    const steady = await api.waitRunning(steadyId, 1, 60_000);
    const image = await colorImage('red', 'png', 32, 32);

    const answers: Answer[] = [];
    const predictions: string[] = [];
    let loading = true;
    const readers = (async () => {
      while (loading) answers.push(await rest('GET', `/inference/services/${steadyId}`));
    })();
    // The router routes from its table, not the store: predictions are expected to keep working throughout.
    const predictors = (async () => {
      while (loading) {
        const outcome = await predictVia(api, 'data-plane', { id: steadyId, endpointUrl: steady.endpoint_url }, image);
        predictions.push(predictionProblem(outcome, 'red') ?? 'ok');
      }
    })();

    // Creates with an Idempotency-Key, retried by their clients (same key, same body) until they are answered 201.
    const keys = ['a', 'b', 'c'].map((k) => `outage-${database}-${k}`);
    const creates = keys.map(async (key, i) => {
      const body = { name: `mongo-outage-${i}`, workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas: 1 };
      await new Promise((resolve) => setTimeout(resolve, 40 * i));
      for (;;) {
        const answer = await rest('POST', '/inference/services', body, { 'idempotency-key': key });
        answers.push(answer);
        if (answer.status === 201) return (answer.body as { data: { service_id: string } }).data.service_id;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });

    await new Promise((resolve) => setTimeout(resolve, 30));
    await double.kill();
    const outageStarted = Date.now();
    await waitFor(() => fetch(`${stack.url}/readyz`).then((r) => r.status), (s) => s === 503, 'the gateway unready while MongoDB is away', 15_000, 100);
    await waitFor(() => answers.filter((a) => a.status === 503).length, (n) => n >= 3, 'requests answered 503 during the outage', 15_000, 100);
    await double.restart();
    const outageMs = Date.now() - outageStarted;
    const ids = await Promise.all(creates);
    await waitFor(() => fetch(`${stack.url}/readyz`).then((r) => r.status), (s) => s === 200, 'the gateway ready again', 15_000, 100);
    loading = false;
    await Promise.all([readers, predictors]);

    // Every answer was a success or a clear 503 with Retry-After: no 500, nothing else.
    const failures = answers.filter((a) => a.status >= 300);
    expect(failures.length, 'some requests met the outage').toBeGreaterThan(0);
    for (const failure of failures) expect(failure, JSON.stringify(failure.body)).toMatchObject({ status: 503, code: 50300, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
    expect(answers.filter((a) => a.status === 500)).toEqual([]);
    expect(predictions.filter((p) => p !== 'ok'), `data-plane predictions during a ${outageMs} ms outage`).toEqual([]);
    expect(predictions.length).toBeGreaterThan(0);

    // Nothing half written: one service per key (a replay names the same one), each with its created line.
    expect(new Set(ids).size).toBe(keys.length);
    for (const [i, key] of keys.entries()) {
      const replay = await rest('POST', '/inference/services', { name: `mongo-outage-${i}`, workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas: 1 }, { 'idempotency-key': key });
      expect(replay.status).toBe(201);
      expect((replay.body as { data: { service_id: string } }).data.service_id).toBe(ids[i]);
    }
    const listed = await api.expectOk('GET', `/inference/services?workspace_id=${WS}&name=mongo-outage-&page_size=50`);
    expect(listed.pagination.total).toBe(keys.length);

    // Everything converges: the new services run, the steady one still does.
    for (const id of ids) {
      await api.waitRunning(id, 1, 60_000);
      expect((await api.events(id))[0]).toMatchObject({ type: 'created' });
    }
    expect(await api.detail(steadyId)).toMatchObject({ status: 'running', ready_replicas: 1 });
    expect(double.refused, 'commands the platform sent that the double does not implement').toEqual([]);
    expect(double.internalErrors).toEqual([]);
    for (const proc of stack.processes) expect(proc.child.exitCode, `${proc.name} still running`).toBeNull();
  }, 180_000);
});
