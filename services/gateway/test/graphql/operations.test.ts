import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS, colorClassifierOnnx, tempDir, type TempDir } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { waitFor } from '../../../../test/support/client.js';
import { expectHistory } from '../../../../test/support/history.js';
import { graphqlClient, onlyError } from './client.js';

const WS = 456;
const OTHER_WS = 789;
const EIGHT_GIB = 8 * 1024 ** 3; // beyond GraphQL Int: travels as SafeInt

const SERVICE_FIELDS = `id name description workspaceId modelId modelVersion framework cpu memory gpu replicas readyReplicas
  status statusReason statusMessage endpointUrl createdAt updatedAt`;

const CREATE = `mutation Create($input: CreateInferenceServiceInput!, $key: String) {
  createInferenceService(input: $input, idempotencyKey: $key) { ${SERVICE_FIELDS} }
}`;

describe('GraphQL operations end to end', () => {
  let p: TestPlatform;
  let artifacts: TempDir;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  let otherToken: string;
  let model: { modelId: number; version: string };
  let serial = 0;
  const input = (overrides: Record<string, unknown> = {}) => ({
    name: `gql-svc-${++serial}`,
    workspaceId: WS,
    modelId: model.modelId,
    modelVersion: model.version,
    ...overrides,
  });
  const create = async (overrides: Record<string, unknown> = {}) => {
    const res = await gql(CREATE, { token, variables: { input: input(overrides) } });
    expect(res.errors, res.text).toBeUndefined();
    return res.data!.createInferenceService as { id: string; [k: string]: unknown };
  };
  /** Polls the service (as its owner) until `accept` holds. */
  const waitForService = (id: string, accept: (s: Record<string, any>) => boolean, what: string, fields = SERVICE_FIELDS) =>
    waitFor(
      async () => (await gql(`query($id: ID!) { inferenceService(id: $id) { ${fields} } }`, { token, variables: { id } })).data?.inferenceService,
      (s) => Boolean(s && accept(s)),
      `${id} ${what}`,
    ) as Promise<Record<string, any>>;
  const waitRunning = (id: string) =>
    waitForService(id, (s) => s.status === 'RUNNING' && s.readyReplicas === s.replicas, 'RUNNING with every replica ready');

  beforeAll(async () => {
    artifacts = await tempDir('rgpu-gql-artifacts-');
    await mkdir(path.join(artifacts.path, 'models'));
    await writeFile(path.join(artifacts.path, 'models', 'colors.onnx'), colorClassifierOnnx());
    // One GPU, whatever the machine has: the predict test makes "no ready replica" deterministic by letting
    // one service hold it while a second waits for it. Every other service here asks for no GPU.
    p = await startTestPlatform({ env: { RGPU_ARTIFACT_ROOTS: artifacts.path, RGPU_LOCAL_GPUS: '1' } });
    gql = graphqlClient(p.url);
    token = await p.token({ sub: 'alice', workspaces: [WS] });
    otherToken = await p.token({ sub: 'mallory', workspaces: [OTHER_WS] });
    model = await p.registerColorModel(WS, token);
  });
  afterAll(async () => {
    await p?.stop();
    await artifacts?.cleanup();
  });

  it('creates a service with every field of the contract, memory beyond 32 bits included', async () => {
    const res = await gql(CREATE, {
      token,
      variables: { input: input({ name: 'gql-full', description: 'colours', cpu: 1.5, memory: EIGHT_GIB, gpu: 0, replicas: 2 }) },
    });
    expect(res.status).toBe(200);
    expect(res.errors, res.text).toBeUndefined();
    const svc = res.data!.createInferenceService;
    expect(svc).toMatchObject({
      name: 'gql-full',
      description: 'colours',
      workspaceId: WS,
      modelId: model.modelId,
      modelVersion: model.version,
      framework: 'pytorch',
      cpu: 1.5,
      memory: EIGHT_GIB,
      gpu: 0,
      replicas: 2,
      readyReplicas: 0,
      status: 'CREATING',
      statusMessage: null,
    });
    expect(svc.id).toMatch(/^svc-[a-z0-9]{10,}$/);
    expect(svc.endpointUrl).toMatch(new RegExp(`/inference/${svc.id}$`));
    expect(new Date(svc.createdAt).toISOString()).toBe(svc.createdAt);

    // Once the provisioner has it up, it reads back as created but running, with every replica ready.
    const read = await waitForService(
      svc.id,
      (s) => s.status === 'RUNNING' && s.readyReplicas === 2,
      'RUNNING with 2 ready',
      `${SERVICE_FIELDS} events { type status reason message at } replicaStates { replicaId generation state restarts device message }`,
    );
    const { events, replicaStates, ...fields } = read;
    // Each replica as the provisioner saw it when it wrote RUNNING: both of the first generation, ready, never restarted.
    expect(replicaStates.map((r: Record<string, unknown>) => [r.state, r.generation, r.restarts])).toEqual([['ready', 1, 0], ['ready', 1, 0]]);
    expect(fields).toEqual({ ...svc, status: 'RUNNING', readyReplicas: 2, statusReason: null, statusMessage: null, updatedAt: expect.any(String) });
    expect(new Date(fields.updatedAt).toISOString()).toBe(fields.updatedAt);
    expect(fields.updatedAt >= svc.updatedAt).toBe(true);
    expectHistory(events, ['created']);
    expect(events[0]).toEqual({ type: 'CREATED', status: 'CREATING', reason: null, message: null, at: svc.createdAt });
    expect(events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', status: 'RUNNING' });
  });

  it('applies the REST defaults to omitted optional fields', async () => {
    const svc = await create();
    expect(svc).toMatchObject({ description: '', cpu: 1, memory: 2 * 1024 ** 3, gpu: 0, replicas: 1 });
  });

  it('validates input with the core rules and names the REST fields', async () => {
    const res = await gql(CREATE, { token, variables: { input: input({ name: '  ', replicas: 0, cpu: 0.0001, modelVersion: 'bad version!' }) } });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    const error = onlyError(res);
    expect(error.extensions).toMatchObject({ code: 40000, status: 400 });
    expect(error.extensions.fields!.map((f) => f.field).sort()).toEqual(['cpu', 'model_version', 'name', 'replicas']);
  });

  it('refuses a model of another workspace (42200), a workspace the token lacks (40300) and a duplicate name (40900)', async () => {
    const other = await gql(CREATE, { token, variables: { input: input({ modelId: 999_999 }) } });
    expect(onlyError(other).extensions).toMatchObject({ code: 42200, status: 422, fields: [expect.objectContaining({ field: 'model_id' })] });

    const forbidden = await gql(CREATE, { token, variables: { input: input({ workspaceId: OTHER_WS }) } });
    expect(onlyError(forbidden).extensions).toMatchObject({ code: 40300, status: 403 });

    const first = await create({ name: 'gql-dup' });
    expect(first.name).toBe('gql-dup');
    const dup = await gql(CREATE, { token, variables: { input: input({ name: 'gql-dup' }) } });
    expect(onlyError(dup).extensions).toMatchObject({ code: 40900, fields: [expect.objectContaining({ field: 'name' })] });
  });

  it('replays an idempotent create and refuses the same key with another input', async () => {
    const body = input({ name: 'gql-idem' });
    const first = await gql(CREATE, { token, variables: { input: body, key: 'gql-key-1' } });
    const again = await gql(CREATE, { token, variables: { input: body, key: 'gql-key-1' } });
    expect(again.data!.createInferenceService.id).toBe(first.data!.createInferenceService.id);
    const conflict = await gql(CREATE, { token, variables: { input: { ...body, replicas: 3 }, key: 'gql-key-1' } });
    expect(onlyError(conflict).extensions.code).toBe(40900);
  });

  it('lists with pagination, filters and the page-size cap', async () => {
    const a = await create({ name: 'gql-list-a' });
    const b = await create({ name: 'gql-list-b' });
    const LIST = `query($page: Int, $pageSize: Int, $status: ServiceStatus, $name: String, $ws: Int) {
      inferenceServices(page: $page, pageSize: $pageSize, status: $status, name: $name, workspaceId: $ws) {
        items { id name status } pagination { page pageSize total totalPages }
      }
    }`;
    const page = await gql(LIST, { token, variables: { page: 1, pageSize: 1, name: 'gql-list-' } });
    expect(page.data!.inferenceServices).toEqual({
      items: [expect.objectContaining({ name: 'gql-list-b' })], // newest first
      pagination: { page: 1, pageSize: 1, total: 2, totalPages: 2 },
    });
    // The status filter, once both are up (earlier services of this file may be in any status).
    await waitRunning(a.id);
    await waitRunning(b.id);
    const capped = await gql(LIST, { token, variables: { pageSize: 1000, status: 'RUNNING', ws: WS } });
    expect(capped.data!.inferenceServices.pagination.pageSize).toBe(100);
    const running = capped.data!.inferenceServices.items as { id: string; status: string }[];
    expect(running.map((s) => s.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(running.every((s) => s.status === 'RUNNING')).toBe(true);
    const stopped = await gql(LIST, { token, variables: { status: 'STOPPED', name: 'gql-list-' } });
    expect(stopped.data!.inferenceServices).toEqual({ items: [], pagination: { page: 1, pageSize: 20, total: 0, totalPages: 0 } });

    const bad = await gql(LIST, { token, variables: { page: 0 } });
    expect(onlyError(bad).extensions).toMatchObject({ code: 40000, fields: [expect.objectContaining({ field: 'page' })] });

    const none = await gql(LIST, { token: otherToken, variables: {} });
    expect(none.data!.inferenceServices.pagination.total).toBe(0);
  });

  it('updates, stops, starts and deletes, recording each step in the events', async () => {
    const svc = await create();
    const OPS = `
      mutation Update($id: ID!) { updateInferenceService(id: $id, input: { replicas: 3, description: "scaled" }) { replicas description status } }
      mutation Stop($id: ID!) { stopInferenceService(id: $id) { status statusReason } }
      mutation Start($id: ID!) { startInferenceService(id: $id) { status } }
      mutation Delete($id: ID!) { deleteInferenceService(id: $id) }
      query Get($id: ID!) { inferenceService(id: $id) { id status events { type status at } } }`;
    const run = (operationName: string) =>
      fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: OPS, operationName, variables: { id: svc.id } }),
      }).then((r) => r.json() as Promise<{ data: Record<string, any>; errors?: unknown }>);

    // Still coming up, or already up and now rolling the new spec.
    expect((await run('Update')).data.updateInferenceService).toEqual({ replicas: 3, description: 'scaled', status: expect.stringMatching(/^(CREATING|UPDATING)$/) });
    expect((await run('Stop')).data.stopInferenceService).toEqual({ status: 'STOPPING', statusReason: 'stop_requested' });
    // Idempotent; the local runtime may have finished stopping already.
    expect((await run('Stop')).data.stopInferenceService.status).toMatch(/^(STOPPING|STOPPED)$/);
    expect((await run('Start')).data.startInferenceService.status).toBe('CREATING');
    await waitForService(svc.id, (s) => s.status === 'RUNNING' && s.readyReplicas === 3, 'RUNNING with 3 ready');
    const events = (await run('Get')).data.inferenceService.events as { type: string; status: string; at: string }[];
    expectHistory(events, ['created', 'updated', 'stop_requested', 'start_requested']);
    expect(events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', status: 'RUNNING' });
    expect((await run('Delete')).data.deleteInferenceService).toBe(true);
    expect((await run('Get')).data.inferenceService).toBeNull();
    const again = await run('Delete');
    expect(again.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 40400 }) })]);
  });

  it('hides another workspace: null on reads, 40400 on every mutation', async () => {
    const svc = await create();
    await waitRunning(svc.id); // so that "unchanged" below is one exact state
    const read = await gql(`query($id: ID!) { inferenceService(id: $id) { id } }`, { token: otherToken, variables: { id: svc.id } });
    expect(read.data).toEqual({ inferenceService: null });
    for (const mutation of [
      `mutation($id: ID!) { stopInferenceService(id: $id) { id } }`,
      `mutation($id: ID!) { startInferenceService(id: $id) { id } }`,
      `mutation($id: ID!) { deleteInferenceService(id: $id) }`,
      `mutation($id: ID!) { updateInferenceService(id: $id, input: { replicas: 2 }) { id } }`,
      `mutation($id: ID!) { predict(serviceId: $id, inputs: { image: "aGVsbG8=" }) { predictions { class } } }`,
    ]) {
      const res = await gql(mutation, { token: otherToken, variables: { id: svc.id } });
      expect(onlyError(res).extensions, mutation).toMatchObject({ code: 40400, status: 404 });
    }
    const unknown = await gql(`mutation { stopInferenceService(id: "svc-doesnotexist00") { id } }`, { token });
    expect(onlyError(unknown).extensions.code).toBe(40400);
    // The owner still sees it unchanged.
    const own = await gql(`query($id: ID!) { inferenceService(id: $id) { status replicas } }`, { token, variables: { id: svc.id } });
    expect(own.data!.inferenceService).toEqual({ status: 'RUNNING', replicas: 1 });
  });

  it('predict validates like REST, refuses a stopped service (40900) and reports no ready replica (50300)', async () => {
    // The platform's one GPU goes to a running service; a second one asking for a GPU waits with no replica.
    const holder = await create({ gpu: 1 });
    await waitRunning(holder.id);
    const svc = await create({ gpu: 1 });
    const waiting = await waitForService(svc.id, (s) => s.statusReason === 'insufficient_gpu', 'waiting for a GPU');
    expect(waiting).toMatchObject({ status: 'CREATING', readyReplicas: 0 });
    const PREDICT = `mutation($id: ID!, $inputs: JSONObject!, $parameters: JSONObject) {
      predict(serviceId: $id, inputs: $inputs, parameters: $parameters) { predictions { class confidence } }
    }`;
    const invalid = await gql(PREDICT, { token, variables: { id: svc.id, inputs: { image: '***' }, parameters: { top_k: 0 } } });
    expect(onlyError(invalid).extensions.fields!.map((f) => f.field).sort()).toEqual(['inputs.image', 'parameters.top_k']);

    const notReady = await gql(PREDICT, { token, variables: { id: svc.id, inputs: { image: 'aGVsbG8=' } } });
    expect(onlyError(notReady).extensions).toMatchObject({ code: 50300, status: 503, retryAfter: 1 });

    await gql(`mutation($id: ID!) { stopInferenceService(id: $id) { id } }`, { token, variables: { id: svc.id } });
    const stopped = await gql(PREDICT, { token, variables: { id: svc.id, inputs: { image: 'aGVsbG8=' } } });
    expect(onlyError(stopped).extensions).toMatchObject({ code: 40900, status: 409 });
    await gql(`mutation($id: ID!) { stopInferenceService(id: $id) { id } }`, { token, variables: { id: holder.id } });
  });

  it('creates models, registers a version from a URI, and reads them back', async () => {
    const created = await gql(
      `mutation($input: CreateModelInput!) { createModel(input: $input) { id workspaceId name framework task description versions { version } } }`,
      { token, variables: { input: { name: 'gql-model', workspaceId: WS, framework: 'onnx' } } },
    );
    expect(created.errors, created.text).toBeUndefined();
    const m = created.data!.createModel;
    expect(m).toMatchObject({ workspaceId: WS, name: 'gql-model', framework: 'onnx', task: 'image-classification', description: '', versions: [] });

    const VERSION = `mutation($id: Int!, $input: CreateModelVersionFromUriInput!) {
      createModelVersionFromUri(modelId: $id, input: $input) { modelId version format sizeBytes sha256 labels preprocessing { mean std } inputs { name datatype shape } outputs { name shape } }
    }`;
    const uri = `file://${path.join(artifacts.path, 'models', 'colors.onnx')}`;
    const preprocessing = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    const version = await gql(VERSION, { token, variables: { id: m.id, input: { version: 'v1', artifactUri: uri, labels: [...COLOR_LABELS], preprocessing } } });
    expect(version.errors, version.text).toBeUndefined();
    expect(version.data!.createModelVersionFromUri).toMatchObject({
      modelId: m.id,
      version: 'v1',
      format: 'onnx',
      sizeBytes: colorClassifierOnnx().length,
      labels: [...COLOR_LABELS],
      preprocessing,
    });
    expect(version.data!.createModelVersionFromUri.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(version.data!.createModelVersionFromUri.outputs[0].shape.at(-1)).toBe(COLOR_LABELS.length);

    const outside = await gql(VERSION, { token, variables: { id: m.id, input: { version: 'v2', artifactUri: 'file:///etc/passwd', labels: ['a'] } } });
    expect(onlyError(outside).extensions.code).toBe(42200);
    const badLabels = await gql(VERSION, { token, variables: { id: m.id, input: { version: 'v3', artifactUri: uri, labels: [] } } });
    expect(onlyError(badLabels).extensions).toMatchObject({ code: 40000, fields: [expect.objectContaining({ field: 'labels' })] });

    const read = await gql(`query($id: Int!) { model(id: $id) { name versions { version labels } } }`, { token, variables: { id: m.id } });
    expect(read.data!.model).toEqual({ name: 'gql-model', versions: [{ version: 'v1', labels: [...COLOR_LABELS] }] });
    const hidden = await gql(`query($id: Int!) { model(id: $id) { id } }`, { token: otherToken, variables: { id: m.id } });
    expect(hidden.data).toEqual({ model: null });
    const invisibleVersion = await gql(VERSION, { token: otherToken, variables: { id: m.id, input: { version: 'v9', artifactUri: uri, labels: ['a', 'b', 'c'] } } });
    expect(onlyError(invisibleVersion).extensions.code).toBe(40400);

    const list = await gql(`{ models(pageSize: 1) { items { id } pagination { page pageSize total } } }`, { token });
    expect(list.data!.models).toEqual({ items: [{ id: m.id }], pagination: { page: 1, pageSize: 1, total: 2 } });
    const invalidModel = await gql(`mutation { createModel(input: { name: "x", workspaceId: ${WS}, framework: "caffe" }) { id } }`, { token });
    expect(onlyError(invalidModel).extensions.fields).toEqual([expect.objectContaining({ field: 'framework' })]);
  });

  it('speaks Chinese by default and English on Accept-Language: en', async () => {
    const query = `mutation { stopInferenceService(id: "svc-doesnotexist00") { id } }`;
    expect(onlyError(await gql(query, { token })).message).toBe('推理服务不存在: svc-doesnotexist00');
    expect(onlyError(await gql(query, { token, language: 'en-US,en;q=0.9' })).message).toBe('Inference service not found: svc-doesnotexist00');
    const fields = await gql(CREATE, { token, language: 'en', variables: { input: input({ replicas: 99 }) } });
    expect(onlyError(fields).extensions.fields).toEqual([{ field: 'replicas', message: 'must be an integer from 1 to 32' }]);
  });
});
