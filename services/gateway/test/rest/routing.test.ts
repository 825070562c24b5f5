import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { restClient, type Api } from './rest-client.js';

/** Issue 6, point 17: a wrong method on a known route is 405 with `Allow`; `GET /` says where the API lives. */

const WS = 654;
const SVC = 'svc-0123456789abcdef';

let platform: TestPlatform;
let api: Api;
let token: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ sub: 'dave', workspaces: [WS] });
});

afterAll(async () => {
  await platform?.stop();
});

describe('405 Method Not Allowed', () => {
  it.each([
    ['PUT', '/api/v1/inference/services', 'GET, HEAD, POST'],
    ['DELETE', '/api/v1/inference/services', 'GET, HEAD, POST'],
    ['PUT', `/api/v1/inference/services/${SVC}`, 'DELETE, GET, HEAD, PATCH'],
    ['GET', `/api/v1/inference/services/${SVC}/stop`, 'POST'],
    ['DELETE', `/api/v1/inference/services/${SVC}/predict`, 'POST'],
    ['POST', `/api/v1/inference/services/${SVC}/events`, 'GET, HEAD'],
    ['PATCH', '/api/v1/models', 'GET, HEAD, POST'],
    ['GET', '/api/v1/models/1/versions', 'POST'],
  ])('%s %s → 405, Allow: %s, the error envelope', async (method, path, allow) => {
    const res = await api(method, path, { token, headers: { 'accept-language': 'en' } });
    expect(res.status, res.text).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.body.code).toBe(40500);
    expect(res.body.message).toContain(`does not support ${method}; allowed methods: ${allow}`);
  });

  it('speaks Chinese by default', async () => {
    const res = await api('PUT', '/api/v1/inference/services', { token });
    expect(res.status).toBe(405);
    expect(res.body.message).toMatch(/不支持 PUT 方法/);
  });

  it('still asks for a token first: an anonymous caller learns nothing about routes', async () => {
    const res = await api('PUT', `/api/v1/inference/services/${SVC}`);
    expect(res.status).toBe(401);
  });

  it('an unknown path stays 404', async () => {
    const res = await api('GET', '/api/v1/inference/nothing-here', { token });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
    const probe = await api('POST', '/healthz/extra');
    expect(probe.status).toBe(404);
  });

  it('probes answer 405 too', async () => {
    const res = await api('POST', '/healthz');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('the data plane: GET {endpoint_url}/predict → 405, Allow: POST', async () => {
    const res = await api('GET', `/inference/${SVC}/predict`, { token, headers: { 'accept-language': 'en' } });
    expect(res.status, res.text).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body.code).toBe(40500);
  });
});

describe('GET /', () => {
  it('answers a small JSON index of the entry points, without a token', async () => {
    const res = await fetch(`${platform.url}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { links: Record<string, string> };
    expect(body.links).toMatchObject({ rest: '/api/v1', graphql: '/graphql', metrics: '/metrics' });
  });

  it('GET /api/v1 lists the resource collections (with a token)', async () => {
    const res = await fetch(`${platform.url}/api/v1`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { links: Record<string, string> };
    expect(body.links).toEqual({ inference_services: '/api/v1/inference/services', models: '/api/v1/models' });
    const anonymous = await fetch(`${platform.url}/api/v1`);
    expect(anonymous.status).toBe(401);
  });
});
