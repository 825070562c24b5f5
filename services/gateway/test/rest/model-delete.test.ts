import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { restClient, type Api } from './rest-client.js';

/**
 * Deleting models and versions (issue 10): 204 and the stored artifact gone; 409 naming the services while a live
 * one uses it; 404 for another workspace's model; the same through GraphQL.
 */

let platform: TestPlatform;
let api: Api;
let token: string;
const WS = 31;

const artifactOf = (modelId: number, version: string) => join(platform.dataDir, 'models', String(modelId), version, 'model.onnx');

async function graphql(query: string, variables: Record<string, unknown>, bearer = token) {
  const res = await fetch(`${platform.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'accept-language': 'en' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: number } }[] };
}

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ workspaces: [WS] });
});

afterAll(async () => {
  await platform?.stop();
});

describe('DELETE /api/v1/models/{id} and /versions/{version}', () => {
  it('refuses with 409 naming the service while a live service uses the version, then deletes version and model with their files', async () => {
    const { modelId, version } = await platform.registerColorModel(WS, token, { version: 'v1.0' });
    await uploadAnother(modelId, 'v2.0');
    expect(existsSync(artifactOf(modelId, 'v1.0'))).toBe(true);
    const created = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
      token,
      body: { name: 'uses-model', workspace_id: WS, model_id: modelId, model_version: version, cpu: 0.5, memory: 256 * 1024 ** 2 },
    });
    expect(created.status).toBe(201);
    const serviceId = created.body.data!.service_id;
    const en = { 'accept-language': 'en' };

    const busyVersion = await api('DELETE', `/api/v1/models/${modelId}/versions/${version}`, { token, headers: en });
    expect(busyVersion.status).toBe(409);
    expect(busyVersion.body.code).toBe(40900);
    expect(busyVersion.body.message).toContain(serviceId);
    expect(busyVersion.body.message).toContain('uses-model');
    const busyModel = await api('DELETE', `/api/v1/models/${modelId}`, { token, headers: en });
    expect([busyModel.status, busyModel.body.code]).toEqual([409, 40900]);
    expect(busyModel.body.message).toContain(serviceId);
    expect(existsSync(artifactOf(modelId, 'v1.0'))).toBe(true);

    // The version no service uses goes at once, with its file.
    const v2 = await api('DELETE', `/api/v1/models/${modelId}/versions/v2.0`, { token });
    expect([v2.status, v2.text]).toEqual([204, '']);
    expect(existsSync(artifactOf(modelId, 'v2.0'))).toBe(false);
    expect((await api('DELETE', `/api/v1/models/${modelId}/versions/v2.0`, { token })).status).toBe(404);
    const detail = await api<{ versions: { version: string }[] }>('GET', `/api/v1/models/${modelId}`, { token });
    expect(detail.body.data!.versions.map((v) => v.version)).toEqual(['v1.0']);

    // Once the service is deleted, the model goes, with every file and folder of it.
    expect((await api('DELETE', `/api/v1/inference/services/${serviceId}`, { token })).status).toBe(204);
    const gone = await api('DELETE', `/api/v1/models/${modelId}`, { token });
    expect([gone.status, gone.text]).toEqual([204, '']);
    expect(existsSync(join(platform.dataDir, 'models', String(modelId)))).toBe(false);
    expect((await api('GET', `/api/v1/models/${modelId}`, { token })).status).toBe(404);
    expect((await api('DELETE', `/api/v1/models/${modelId}`, { token })).status).toBe(404);
  });

  it("answers 404 for another workspace's model and version, and keeps them", async () => {
    const otherToken = await platform.token({ workspaces: [WS + 1] });
    const other = await platform.registerColorModel(WS + 1, otherToken);
    expect((await api('DELETE', `/api/v1/models/${other.modelId}`, { token })).status).toBe(404);
    const version = await api('DELETE', `/api/v1/models/${other.modelId}/versions/${other.version}`, { token });
    expect([version.status, version.body.code]).toEqual([404, 40400]);
    expect(existsSync(artifactOf(other.modelId, other.version))).toBe(true);
    expect((await api('GET', `/api/v1/models/${other.modelId}`, { token: otherToken })).status).toBe(200);
  });

  it('answers 405 with Allow for methods the model routes do not serve, and DELETE is among the allowed', async () => {
    const { modelId, version } = await platform.registerColorModel(WS, token);
    const put = await api('PUT', `/api/v1/models/${modelId}`, { token });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD');
    const put2 = await api('PUT', `/api/v1/models/${modelId}/versions/${version}`, { token });
    expect(put2.status).toBe(405);
    expect(put2.headers.get('allow')!.split(', ')).toContain('DELETE');
  });
});

describe('GraphQL deleteModel / deleteModelVersion', () => {
  it('deletes a version and a model (true), 40900 while used, null data and 40400 for a foreign one', async () => {
    const { modelId, version } = await platform.registerColorModel(WS, token);
    const delVersion = 'mutation($m: Int!, $v: String!) { deleteModelVersion(modelId: $m, version: $v) }';
    const delModel = 'mutation($id: Int!) { deleteModel(id: $id) }';
    const svc = await api<{ service_id: string }>('POST', '/api/v1/inference/services', {
      token,
      body: { name: 'gql-user', workspace_id: WS, model_id: modelId, model_version: version, cpu: 0.5, memory: 256 * 1024 ** 2 },
    });
    const busy = await graphql(delModel, { id: modelId });
    expect(busy.errors?.[0]?.extensions?.code).toBe(40900);
    expect(busy.errors?.[0]?.message).toContain(svc.body.data!.service_id);
    await api('DELETE', `/api/v1/inference/services/${svc.body.data!.service_id}`, { token });

    const foreign = await graphql(delModel, { id: modelId }, await platform.token({ workspaces: [WS + 5] }));
    expect(foreign.errors?.[0]?.extensions?.code).toBe(40400);
    expect(await graphql(delVersion, { m: modelId, v: version })).toEqual({ data: { deleteModelVersion: true } });
    expect(existsSync(artifactOf(modelId, version))).toBe(false);
    expect((await graphql(delVersion, { m: modelId, v: version })).errors?.[0]?.extensions?.code).toBe(40400);
    expect(await graphql(delModel, { id: modelId })).toEqual({ data: { deleteModel: true } });
    expect((await api('GET', `/api/v1/models/${modelId}`, { token })).status).toBe(404);
  });
});

async function uploadAnother(modelId: number, version: string): Promise<void> {
  const { colorClassifierOnnx, COLOR_LABELS } = await import('@remotegpu/testkit');
  const form = new FormData();
  form.set('version', version);
  form.set('labels', JSON.stringify(COLOR_LABELS));
  form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
  const res = await api('POST', `/api/v1/models/${modelId}/versions`, { token, body: form });
  expect(res.status).toBe(201);
}
