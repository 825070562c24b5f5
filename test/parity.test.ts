import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { waitFor } from './support/client.js';

/**
 * One suite, two transports (Apollo's integration-testsuite pattern): the same expectations run through
 * REST and through GraphQL, so the two ways in cannot drift apart.
 */
interface ServiceView {
  id: string;
  name: string;
  status: string;
  replicas: number;
  memory?: number;
  cpu?: number;
  modelVersion?: string;
  description?: string;
}
interface ListView {
  items: ServiceView[];
  pagination: { page: number; pageSize: number; total: number; totalPages: number };
}
interface Failure {
  failed: true;
  code: number;
}
interface Driver {
  /** The service as the create answered it (status included), with the fields a read adds. */
  create(input: Record<string, unknown>): Promise<ServiceView | Failure>;
  list(args: { page?: number; pageSize?: number; workspaceId?: number; status?: string; name?: string }): Promise<ListView>;
  get(id: string): Promise<ServiceView | null>;
  stop(id: string): Promise<void>;
  start(id: string): Promise<void>;
  patch(id: string, input: Record<string, unknown>): Promise<ServiceView | Failure>;
  remove(id: string): Promise<void>;
  createModel(input: { name: string; workspace_id: number; framework: string }): Promise<{ id: number; name: string }>;
  getModel(id: number): Promise<{ id: number; name: string; versions: string[] } | null>;
  listModels(): Promise<{ total: number; ids: number[] }>;
}

function restDriver(p: TestPlatform, token: string): Driver {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${p.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const view = (d: Record<string, unknown>): ServiceView => ({
    id: d.service_id as string,
    name: d.name as string,
    status: d.status as string,
    replicas: d.replicas as number,
    ...(d.memory !== undefined ? { memory: d.memory as number, cpu: d.cpu as number, modelVersion: d.model_version as string, description: d.description as string } : {}),
  });
  return {
    async create(input) {
      const res = await call('POST', '/inference/services', input);
      if (res.status !== 201) return { failed: true, code: res.body.code };
      // REST's create answers four fields; the rest comes from a read. The status is the create's own: by the
      // time of the read the provisioner may have moved it on, which is not what create answered.
      const read = (await this.get(res.body.data.service_id)) as ServiceView;
      return { ...read, status: res.body.data.status };
    },
    async list(a) {
      const q = new URLSearchParams();
      if (a.page) q.set('page', String(a.page));
      if (a.pageSize) q.set('page_size', String(a.pageSize));
      if (a.workspaceId) q.set('workspace_id', String(a.workspaceId));
      if (a.status) q.set('status', a.status);
      if (a.name) q.set('name', a.name);
      const res = await call('GET', `/inference/services?${q}`);
      expect(res.status).toBe(200);
      const pg = res.body.data.pagination;
      return {
        items: res.body.data.items.map(view),
        pagination: { page: pg.page, pageSize: pg.page_size, total: pg.total, totalPages: pg.total_pages },
      };
    },
    async get(id) {
      const res = await call('GET', `/inference/services/${id}`);
      return res.status === 200 ? view(res.body.data) : null;
    },
    async stop(id) {
      expect((await call('POST', `/inference/services/${id}/stop`)).status).toBe(200);
    },
    async start(id) {
      expect((await call('POST', `/inference/services/${id}/start`)).status).toBe(200);
    },
    async patch(id, input) {
      const res = await call('PATCH', `/inference/services/${id}`, input);
      return res.status === 200 ? view(res.body.data) : { failed: true, code: res.body.code };
    },
    async remove(id) {
      expect((await call('DELETE', `/inference/services/${id}`)).status).toBe(204);
    },
    async createModel(input) {
      const res = await call('POST', '/models', input);
      expect(res.status).toBe(201);
      return { id: res.body.data.model_id, name: res.body.data.name };
    },
    async getModel(id) {
      const res = await call('GET', `/models/${id}`);
      if (res.status !== 200) return null;
      return { id: res.body.data.model_id, name: res.body.data.name, versions: res.body.data.versions.map((v: { version: string }) => v.version) };
    },
    async listModels() {
      const res = await call('GET', '/models');
      return { total: res.body.data.pagination.total, ids: res.body.data.items.map((m: { model_id: number }) => m.model_id) };
    },
  };
}

const CAMEL: Record<string, string> = { workspace_id: 'workspaceId', model_id: 'modelId', model_version: 'modelVersion' };
const camel = (input: Record<string, unknown>) => Object.fromEntries(Object.entries(input).map(([k, v]) => [CAMEL[k] ?? k, v]));
const SERVICE_FIELDS = 'id name status replicas memory cpu modelVersion description';

function graphqlDriver(p: TestPlatform, token: string): Driver {
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${p.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, any> | null; errors?: { extensions: { code: number } }[] };
  };
  const view = (s: Record<string, unknown>): ServiceView => ({ ...(s as unknown as ServiceView), status: String(s.status).toLowerCase() });
  return {
    async create(input) {
      const r = await gql(`mutation($input: CreateInferenceServiceInput!) { createInferenceService(input: $input) { ${SERVICE_FIELDS} } }`, { input: camel(input) });
      return r.errors ? { failed: true, code: r.errors[0].extensions.code } : view(r.data!.createInferenceService);
    },
    async list(a) {
      const r = await gql(
        `query($page: Int, $pageSize: Int, $workspaceId: Int, $status: ServiceStatus, $name: String) {
          inferenceServices(page: $page, pageSize: $pageSize, workspaceId: $workspaceId, status: $status, name: $name) {
            items { id name status replicas } pagination { page pageSize total totalPages } } }`,
        { ...a, status: a.status?.toUpperCase() },
      );
      expect(r.errors).toBeUndefined();
      return { items: r.data!.inferenceServices.items.map(view), pagination: r.data!.inferenceServices.pagination };
    },
    async get(id) {
      const r = await gql(`query($id: ID!) { inferenceService(id: $id) { ${SERVICE_FIELDS} } }`, { id });
      return r.data?.inferenceService ? view(r.data.inferenceService) : null;
    },
    async stop(id) {
      expect((await gql(`mutation($id: ID!) { stopInferenceService(id: $id) { id } }`, { id })).errors).toBeUndefined();
    },
    async start(id) {
      expect((await gql(`mutation($id: ID!) { startInferenceService(id: $id) { id } }`, { id })).errors).toBeUndefined();
    },
    async patch(id, input) {
      const r = await gql(`mutation($id: ID!, $input: UpdateInferenceServiceInput!) { updateInferenceService(id: $id, input: $input) { ${SERVICE_FIELDS} } }`, { id, input: camel(input) });
      return r.errors ? { failed: true, code: r.errors[0].extensions.code } : view(r.data!.updateInferenceService);
    },
    async remove(id) {
      const r = await gql(`mutation($id: ID!) { deleteInferenceService(id: $id) }`, { id });
      expect(r.data?.deleteInferenceService).toBe(true);
    },
    async createModel(input) {
      const r = await gql(`mutation($input: CreateModelInput!) { createModel(input: $input) { id name } }`, { input: camel(input) });
      expect(r.errors).toBeUndefined();
      return r.data!.createModel;
    },
    async getModel(id) {
      const r = await gql(`query($id: Int!) { model(id: $id) { id name versions { version } } }`, { id });
      const m = r.data?.model;
      return m ? { id: m.id, name: m.name, versions: m.versions.map((v: { version: string }) => v.version) } : null;
    },
    async listModels() {
      const r = await gql(`{ models { items { id } pagination { total } } }`);
      return { total: r.data!.models.pagination.total, ids: r.data!.models.items.map((m: { id: number }) => m.id) };
    },
  };
}

const TRANSPORTS: [string, (p: TestPlatform, token: string) => Driver][] = [
  ['REST', restDriver],
  ['GraphQL', graphqlDriver],
];

/** What a service may show shortly after create or start: the provisioner may have it up already. */
const COMING_UP = /^(creating|running)$/;

describe.each(TRANSPORTS)('parity over %s', (_transport, makeDriver) => {
  const WS = 300;
  let p: TestPlatform;
  let d: Driver;
  let modelId: number;

  beforeAll(async () => {
    p = await startTestPlatform();
    const token = await p.token({ sub: 'parity', workspaces: [WS, WS + 1] });
    d = makeDriver(p, token);
    ({ modelId } = await p.registerColorModel(WS, token));
    await p.registerColorModel(WS + 1, token, { name: 'other-ws-model' });
  });
  afterAll(() => p?.stop());

  const body = (name: string, extra: Record<string, unknown> = {}) => ({
    name, description: 'parity', workspace_id: WS, model_id: modelId, model_version: 'v1.0', framework: 'pytorch',
    cpu: 2, memory: 17179869184, gpu: 0, replicas: 2, ...extra,
  });

  it('creates a service that reads back with every field', async () => {
    const s = (await d.create(body('alpha'))) as ServiceView;
    expect(s).toMatchObject({ name: 'alpha', status: 'creating', replicas: 2, memory: 17179869184, cpu: 2, modelVersion: 'v1.0', description: 'parity' });
    expect(s.id).toMatch(/^svc-[a-z0-9]{16}$/);
    expect(await d.get(s.id)).toEqual({ ...s, status: expect.stringMatching(COMING_UP) });
  });

  it('refuses what the contract refuses, with the same codes', async () => {
    expect(await d.create(body('alpha'))).toEqual({ failed: true, code: 40900 });
    expect(await d.create(body('bad', { replicas: 0 }))).toEqual({ failed: true, code: 40000 });
    expect(await d.create(body('bad', { model_version: 'v404' }))).toEqual({ failed: true, code: 42200 });
    expect(await d.create(body('bad', { workspace_id: 999 }))).toEqual({ failed: true, code: 40300 });
  });

  it('lists newest first with pagination and filters', async () => {
    for (const name of ['beta', 'gamma', 'delta', 'epsilon']) await d.create(body(name));
    const all = await d.list({});
    expect(all.pagination).toEqual({ page: 1, pageSize: 20, total: 5, totalPages: 1 });
    expect(all.items.map((s) => s.name)).toEqual(['epsilon', 'delta', 'gamma', 'beta', 'alpha']);
    const page2 = await d.list({ page: 2, pageSize: 2 });
    expect(page2.pagination).toEqual({ page: 2, pageSize: 2, total: 5, totalPages: 3 });
    expect(page2.items.map((s) => s.name)).toEqual(['gamma', 'beta']);
    expect((await d.list({ name: 'ALP' })).items.map((s) => s.name)).toEqual(['alpha']);
    expect((await d.list({ workspaceId: WS + 1 })).pagination.total).toBe(0);
    const clamped = await d.list({ pageSize: 1000 });
    expect(clamped.pagination.pageSize).toBe(100);
  });

  it('stops, starts, patches and deletes', async () => {
    const { items } = await d.list({ name: 'beta' });
    const id = items[0].id;
    await d.stop(id);
    // The local runtime stops a replica fast: already stopped is as right as still stopping.
    expect((await d.get(id))?.status).toMatch(/^(stopping|stopped)$/);
    await d.stop(id); // idempotent
    await waitFor(() => d.get(id), (s) => s?.status === 'stopped', `${id} stopped`);
    expect((await d.list({ status: 'stopped' })).items.map((s) => s.id)).toEqual([id]);
    expect((await d.list({ status: 'stopping' })).items).toEqual([]);
    await d.start(id);
    expect((await d.get(id))?.status).toMatch(COMING_UP);
    const patched = (await d.patch(id, { replicas: 3, description: 'scaled' })) as ServiceView;
    expect(patched).toMatchObject({ id, replicas: 3, description: 'scaled' });
    expect(await d.patch(id, { replicas: 99 })).toEqual({ failed: true, code: 40000 });
    expect(await d.patch(id, { model_version: 'v404' })).toEqual({ failed: true, code: 42200 });
    expect((await d.get(id))?.replicas).toBe(3); // a refused patch wrote nothing
    await d.remove(id);
    expect(await d.get(id)).toBeNull();
    expect((await d.list({})).pagination.total).toBe(4);
    // the deleted name is free again
    expect(await d.create(body('beta'))).toMatchObject({ name: 'beta', status: 'creating' });
  });

  it('creates, reads and lists models', async () => {
    const m = await d.createModel({ name: 'registry-model', workspace_id: WS, framework: 'onnx' });
    expect(m.name).toBe('registry-model');
    expect(await d.getModel(modelId)).toMatchObject({ id: modelId, versions: ['v1.0'] });
    expect(await d.getModel(m.id)).toEqual({ id: m.id, name: 'registry-model', versions: [] });
    const list = await d.listModels();
    expect(list.total).toBe(3);
    expect(list.ids[0]).toBe(m.id); // newest first
  });
});
