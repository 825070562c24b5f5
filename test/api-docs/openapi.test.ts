import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';
import { solidImage } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { waitFor } from '../support/client.js';

/**
 * Issue 10: the OpenAPI 3.1 document at /api/v1/openapi.json names every route the gateway serves, with its
 * methods, and the seed routes' real answers from a real platform validate against the document's schemas.
 */

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>> };

const WS = 7301;
let platform: TestPlatform;
let token: string;
let doc: Doc;
let ajv: Ajv2020;
const DOC_ID = 'https://remotegpu.invalid/openapi.json';

beforeAll(async () => {
  platform = await startTestPlatform();
  token = await platform.token({ sub: 'docs', workspaces: [WS] });
  const res = await fetch(`${platform.url}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
  // OpenAPI 3.1 schemas are JSON Schema 2020-12; the whole document is added so `#/components/...` refs resolve.
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
});

afterAll(async () => {
  await platform?.stop();
});

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();

/** The schema the document gives for `method path` answering `status` with JSON (following a response $ref). */
function validatorFor(method: string, path: string, status: number): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  const known = validators.get(key);
  if (known) return known;
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} has no ${status} response in the document`);
  const at = response.$ref
    ? `${response.$ref}/content/${pointer('application/json')}/schema`
    : `#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema')}`;
  const validate = ajv.compile({ $ref: `${DOC_ID}${at}` });
  validators.set(key, validate);
  return validate;
}

interface Answer {
  status: number;
  body: unknown;
}

async function call(method: string, path: string, opts: { body?: unknown; auth?: boolean; lang?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'accept-language': opts.lang ?? 'en' };
  if (opts.auth !== false) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${platform.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Asserts the real answer validates against the document, naming the errors when not. */
function expectDocumented(method: string, template: string, answer: Answer, status: number): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const validate = validatorFor(method, template, status);
  const ok = validate(answer.body);
  expect(ok ? [] : validate.errors, `${method} ${template} ${status}: ${JSON.stringify(answer.body)}`).toEqual([]);
}

/** Express's route layers (router 2: `rawPath` on mounted routers), as method-not-allowed.ts reads them. */
interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle?: { stack?: Layer[] };
}

function servedRoutes(stack: readonly Layer[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route && typeof layer.route.path === 'string') {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        const path = `${prefix}${layer.route.path}`.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/(.)\/$/, '$1');
        if (on && method !== '_all') out.push(`${method.toUpperCase()} ${path}`);
      }
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...servedRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return out;
}

/**
 * Pages for browsers (the web console, the API reference, the GraphQL explorer) are not REST routes: they answer
 * HTML and are described in the README, so the document leaves them out.
 */
const BROWSER_PAGES = /^\/(console|docs|graphql)(\/|$)/;

describe('the document', () => {
  it('is served without a token and is valid OpenAPI 3.1', async () => {
    const res = await fetch(`${platform.url}/api/v1/openapi.json`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { openapi: string };
    expect(body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(body as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('names every route the gateway serves, with each of its methods, and nothing it does not serve', () => {
    const served = [...new Set(servedRoutes(platform.platform.app.router.stack as unknown as Layer[]))]
      .filter((route) => !BROWSER_PAGES.test(route.split(' ')[1]!))
      .sort();
    expect(served.length).toBeGreaterThan(15);
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(served.filter((r) => !documented.includes(r)), 'served but not documented').toEqual([]);
    expect(documented.filter((r) => !served.includes(r)), 'documented but not served').toEqual([]);
  });

  it("publishes core's request schemas: the create body's required fields are those the API reports missing", async () => {
    const res = await call('POST', '/api/v1/inference/services', { body: {} });
    expectDocumented('POST', '/api/v1/inference/services', res, 400);
    const missing = (res.body as { data: { errors: { field: string; message: string }[] } }).data.errors
      .filter((e) => e.message === 'is required')
      .map((e) => e.field);
    const schema = (doc as unknown as { components: { schemas: Record<string, { required: string[] }> } }).components.schemas.CreateServiceRequest!;
    expect(missing.sort()).toEqual([...schema.required].sort());
  });
});

describe("the seed routes' real answers validate against the document", () => {
  it('probes, indexes, models, services, predict, logs, events, stop/start, deletes and errors', { timeout: 60_000 }, async () => {
    expectDocumented('GET', '/healthz', await call('GET', '/healthz', { auth: false }), 200);
    expectDocumented('GET', '/readyz', await call('GET', '/readyz', { auth: false }), 200);
    expectDocumented('GET', '/', await call('GET', '/', { auth: false }), 200);
    expectDocumented('GET', '/api/v1', await call('GET', '/api/v1'), 200);
    expectDocumented('GET', '/api/v1', await call('GET', '/api/v1', { auth: false }), 401);

    const model = await call('POST', '/api/v1/models', { body: { name: 'docs-colors', workspace_id: WS, framework: 'onnx' } });
    expectDocumented('POST', '/api/v1/models', model, 201);
    const { modelId, version } = await platform.registerColorModel(WS, token, { name: 'docs-colors-2' });
    expectDocumented('GET', '/api/v1/models', await call('GET', `/api/v1/models?workspace_id=${WS}`), 200);
    expectDocumented('GET', '/api/v1/models/{model_id}', await call('GET', `/api/v1/models/${modelId}`), 200);
    expectDocumented('GET', '/api/v1/models/{model_id}', await call('GET', '/api/v1/models/999999'), 404);

    const created = await call('POST', '/api/v1/inference/services', {
      body: { name: 'docs svc', workspace_id: WS, model_id: modelId, model_version: version, cpu: 0.5, memory: 268435456 },
    });
    expectDocumented('POST', '/api/v1/inference/services', created, 201);
    const id = (created.body as { data: { service_id: string } }).data.service_id;
    const svc = `/api/v1/inference/services/${id}`;
    const T = '/api/v1/inference/services/{id}';
    expectDocumented('GET', '/api/v1/inference/services', await call('GET', `/api/v1/inference/services?workspace_id=${WS}&page_size=5`), 200);
    expectDocumented('GET', '/api/v1/inference/services', await call('GET', '/api/v1/inference/services?status=nope'), 400);
    await waitFor(
      () => call('GET', svc),
      (r) => (r.body as { data?: { status?: string } }).data?.status === 'running',
      `${id} running`,
    );
    expectDocumented('GET', T, await call('GET', svc), 200);
    expectDocumented('GET', T, await call('GET', svc, { lang: 'zh' }), 200);
    const image = (await solidImage('green', { format: 'png', width: 32, height: 32 })).toString('base64');
    expectDocumented('POST', `${T}/predict`, await call('POST', `${svc}/predict`, { body: { inputs: { image }, parameters: { top_k: 2 } } }), 200);
    expectDocumented('POST', `${T}/predict`, await call('POST', `${svc}/predict`, { body: { inputs: {} } }), 400);
    expectDocumented('GET', `${T}/logs`, await call('GET', `${svc}/logs?tail=5`), 200);
    expectDocumented('GET', `${T}/logs`, await call('GET', `${svc}/logs?tail=0`), 400);
    expectDocumented('PATCH', T, await call('PATCH', svc, { body: { replicas: 2 } }), 200);
    expectDocumented('PATCH', T, await call('PATCH', svc, { body: { name: 'x' } }), 400);
    expectDocumented('GET', `${T}/events`, await call('GET', `${svc}/events`), 200);
    expectDocumented('POST', `${T}/stop`, await call('POST', `${svc}/stop`), 200);
    await waitFor(
      () => call('GET', svc),
      (r) => (r.body as { data?: { status?: string } }).data?.status === 'stopped',
      `${id} stopped`,
    );
    expectDocumented('POST', `${T}/start`, await call('POST', `${svc}/start`), 200);
    const del = await call('DELETE', svc);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expectDocumented('GET', T, await call('GET', svc), 404);
    const unused = (model.body as { data: { model_id: number } }).data.model_id;
    expect((await call('DELETE', `/api/v1/models/${unused}`)).status).toBe(204);
    expectDocumented('GET', '/api/v1/models/{model_id}', await call('GET', `/api/v1/models/${unused}`), 404);
  });
});
