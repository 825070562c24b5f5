import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, COLOR_LABELS, solidImage } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { waitFor } from '../../../../test/support/client.js';
import { restClient, type Api } from './rest-client.js';

/** A model version's `batching` (issue 11): at upload, in the detail, PATCH, validation, and replicas that use it. */

const WS = 611;
const BATCHING = { max_batch_size: 8, max_queue_delay_ms: 10, preferred_batch_sizes: [4] };

let platform: TestPlatform;
let api: Api;
let token: string;
let modelId: number;

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ sub: 'bea', workspaces: [WS] });
  const created = await api<{ model_id: number }>('POST', '/api/v1/models', {
    token,
    body: { name: 'batched-colours', workspace_id: WS, framework: 'onnx', task: 'image-classification' },
  });
  modelId = created.body.data!.model_id;
});

afterAll(async () => {
  await platform?.stop();
});

function upload(version: string, model: Buffer, batching?: unknown) {
  const form = new FormData();
  form.set('version', version);
  form.set('labels', JSON.stringify(COLOR_LABELS));
  if (batching !== undefined) form.set('batching', JSON.stringify(batching));
  form.set('file', new Blob([new Uint8Array(model)]), 'model.onnx');
  return api<Record<string, unknown>>('POST', `/api/v1/models/${modelId}/versions`, { token, body: form });
}

describe('model version batching', () => {
  it('is set at upload (multipart), shown in the version and the model detail, off (null) by default', async () => {
    const res = await upload('dyn', colorClassifierOnnx({ batch: 'N' }), BATCHING);
    expect(res.status, res.text).toBe(201);
    expect(res.body.data!.batching).toEqual(BATCHING);
    const plain = await upload('plain', colorClassifierOnnx({ batch: 'N' }));
    expect(plain.body.data!.batching).toBeNull();
    const detail = await api<{ versions: { version: string; batching: unknown }[] }>('GET', `/api/v1/models/${modelId}`, { token });
    expect(detail.body.data!.versions.map((v) => [v.version, v.batching])).toEqual([
      ['dyn', BATCHING],
      ['plain', null],
    ]);
  });

  it('is refused (422, field batching) for a model whose batch dimension is fixed at 1, and out of bounds (400)', async () => {
    const fixed = await upload('fixed', colorClassifierOnnx(), BATCHING);
    expect(fixed.status, fixed.text).toBe(422);
    expect(fixed.text).toMatch(/"field":"batching"/);
    const bounds = await upload('bounds', colorClassifierOnnx({ batch: 'N' }), { max_batch_size: 100_000 });
    expect(bounds.status).toBe(400);
    expect(bounds.text).toMatch(/max_batch_size/);
    const noFixed = await upload('fixed-off', colorClassifierOnnx());
    expect(noFixed.status).toBe(201);
    const patch = await api('PATCH', `/api/v1/models/${modelId}/versions/fixed-off`, { token, body: { batching: BATCHING } });
    expect(patch.status).toBe(422);
  });

  it('PATCH sets, changes and turns it off; 404 for an unknown version or another workspace', async () => {
    const on = await api<Record<string, unknown>>('PATCH', `/api/v1/models/${modelId}/versions/plain`, { token, body: { batching: { max_batch_size: 4 } } });
    expect(on.status, on.text).toBe(200);
    expect(on.body.data!.batching).toEqual({ max_batch_size: 4, max_queue_delay_ms: 5, preferred_batch_sizes: [] });
    const off = await api<Record<string, unknown>>('PATCH', `/api/v1/models/${modelId}/versions/plain`, { token, body: { batching: null } });
    expect(off.body.data!.batching).toBeNull();
    expect((await api('PATCH', `/api/v1/models/${modelId}/versions/plain`, { token, body: {} })).status).toBe(400);
    expect((await api('PATCH', `/api/v1/models/${modelId}/versions/nope`, { token, body: { batching: null } })).status).toBe(404);
    const outsider = await platform.token({ sub: 'eve', workspaces: [999] });
    expect((await api('PATCH', `/api/v1/models/${modelId}/versions/plain`, { token: outsider, body: { batching: null } })).status).toBe(404);
  });

  it('GraphQL shows it on the version and sets or clears it (updateModelVersionBatching), with the same rules', async () => {
    const gql = async (query: string) => {
      const res = await fetch(`${platform.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data?: any; errors?: { extensions?: { code?: number } }[] };
    };
    const read = await gql(`{ model(id: ${modelId}) { versions { version batching { maxBatchSize maxQueueDelayMs preferredBatchSizes } } } }`);
    expect(read.data.model.versions.find((v: { version: string }) => v.version === 'dyn').batching).toEqual({ maxBatchSize: 8, maxQueueDelayMs: 10, preferredBatchSizes: [4] });
    const set = await gql(`mutation { updateModelVersionBatching(modelId: ${modelId}, version: "plain", batching: { maxBatchSize: 16, preferredBatchSizes: [8] }) { batching { maxBatchSize maxQueueDelayMs preferredBatchSizes } } }`);
    expect(set.data.updateModelVersionBatching.batching).toEqual({ maxBatchSize: 16, maxQueueDelayMs: 5, preferredBatchSizes: [8] });
    const cleared = await gql(`mutation { updateModelVersionBatching(modelId: ${modelId}, version: "plain", batching: null) { batching { maxBatchSize } } }`);
    expect(cleared.data.updateModelVersionBatching.batching).toBeNull();
    const fixed = await gql(`mutation { updateModelVersionBatching(modelId: ${modelId}, version: "fixed-off", batching: { maxBatchSize: 4 }) { version } }`);
    expect(fixed.errors?.[0].extensions?.code).toBe(42200);
    const bounds = await gql(`mutation { updateModelVersionBatching(modelId: ${modelId}, version: "plain", batching: { maxBatchSize: 4, preferredBatchSizes: [8] }) { version } }`);
    expect(bounds.errors?.[0].extensions?.code).toBe(40000);
  });

  it('replicas of a batched version serve concurrent predictions (RGPU_BATCHING accepted by the model server)', async () => {
    const created = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
      token,
      body: { name: 'batched', workspace_id: WS, model_id: modelId, model_version: 'dyn', replicas: 1, cpu: 1 },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.data!.service_id;
    await waitFor(() => api<{ status: string }>('GET', `/api/v1/inference/services/${id}`, { token }), (r) => r.body.data?.status === 'running', `${id} running`, 30_000);
    const images = await Promise.all(COLOR_LABELS.map((c) => solidImage(c, { format: 'png', width: 40, height: 30 })));
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        api<{ predictions: { class: string }[] }>('POST', `/api/v1/inference/services/${id}/predict`, { token, body: { inputs: { image: images[i % 3].toString('base64') } } }),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.status, a.text).toBe(200);
      expect(a.body.data!.predictions[0].class).toBe(COLOR_LABELS[i % 3]);
    });
    // Turning batching off rolls the replicas (a new replica replaces the old one); the service keeps answering.
    type Detail = { replica_states: { replica_id: string; state: string }[] };
    const detail = () => api<Detail>('GET', `/api/v1/inference/services/${id}`, { token });
    const before = (await detail()).body.data!.replica_states.map((r) => r.replica_id);
    const patched = await api('PATCH', `/api/v1/models/${modelId}/versions/dyn`, { token, body: { batching: null } });
    expect(patched.status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const res = await api<{ predictions: { class: string }[] }>('POST', `/api/v1/inference/services/${id}/predict`, { token, body: { inputs: { image: images[0].toString('base64') } } });
      expect(res.status, res.text).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(
      detail,
      (r) => {
        const states = r.body.data?.replica_states ?? [];
        return states.length === 1 && states[0].state === 'ready' && !before.includes(states[0].replica_id);
      },
      `${id} rolled to a replica without batching`,
      20_000,
    );
  });
});
