import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactTokenIssuer } from '@remotegpu/auth';
import { colorClassifierOnnx } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { restClient, type Api } from './rest-client.js';

/**
 * The artifact endpoint replicas on other hosts download their model from (DESIGN §2.1): only artifact tokens open
 * it, each exactly one artifact, for a short time; user tokens open nothing there and artifact tokens nothing else.
 */

const MODEL = colorClassifierOnnx();
const SHA = createHash('sha256').update(MODEL).digest('hex');

let platform: TestPlatform;
let api: Api;
let mine: { modelId: number; version: string };
let other: { modelId: number; version: string };
let issue: (artifact: { modelId: number; version: string; sha256?: string }) => string;

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  mine = await platform.registerColorModel(11, await platform.token({ workspaces: [11] }), { version: 'v1.0' });
  other = await platform.registerColorModel(12, await platform.token({ workspaces: [12] }), { version: 'v1.0' });
  const issuer = artifactTokenIssuer(platform.secret, { ttlMs: 60_000 });
  issue = (a) => issuer.issue({ sha256: SHA, ...a }).token;
});

afterAll(async () => {
  await platform?.stop();
});

const path = (a: { modelId: number; version: string }) => `/api/v1/artifacts/${a.modelId}/${encodeURIComponent(a.version)}`;

async function download(url: string, token?: string, method = 'GET') {
  const res = await fetch(`${platform.url}${url}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('GET /api/v1/artifacts/{model_id}/{version}', () => {
  it('serves the registered bytes to a token for that artifact, with their size and sha256', async () => {
    const res = await download(path(mine), issue(mine));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(MODEL.length));
    expect(res.headers.get('x-checksum-sha256')).toBe(SHA);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.bytes.equals(MODEL)).toBe(true);
    const head = await download(path(mine), issue(mine), 'HEAD');
    expect([head.status, head.headers.get('content-length'), head.bytes.length]).toEqual([200, String(MODEL.length), 0]);
  });

  it('opens no other artifact with that token: another workspace\'s model, another version, other bytes → 404', async () => {
    const token = issue(mine);
    const foreign = await api('GET', path(other), { token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe(40400);
    expect((await download(path({ ...mine, version: 'v2.0' }), token)).status).toBe(404);
    // A token minted for other bytes under the same name (a version registered again after a delete) opens nothing.
    expect((await download(path(mine), issue({ ...mine, sha256: 'f'.repeat(64) }))).status).toBe(404);
    // The other artifact itself is there: its own token opens it.
    expect((await download(path(other), issue(other))).status).toBe(200);
  });

  it('refuses an expired token, a missing one and one in the query string with 401', async () => {
    const expired = artifactTokenIssuer(platform.secret, { ttlMs: 1_000, now: () => Date.now() - 120_000 }).issue({ ...mine, sha256: SHA }).token;
    const res = await api('GET', path(mine), { token: expired, headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 40100, message: 'The artifact token has expired' });
    expect((await download(path(mine))).status).toBe(401);
    expect((await download(`${path(mine)}?token=${issue(mine)}`)).status).toBe(401);
  });

  it('takes no user token, not even an admin\'s, and an artifact token opens no API route', async () => {
    const admin = await platform.token({ admin: true });
    const refused = await api('GET', path(mine), { token: admin, headers: { 'accept-language': 'en' } });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/not user tokens/);
    const artifactToken = issue(mine);
    expect((await api('GET', `/api/v1/models/${mine.modelId}`, { token: artifactToken })).status).toBe(401);
    expect((await api('GET', '/api/v1/inference/services', { token: artifactToken })).status).toBe(401);
  });

  it('checks the token before anything else, then answers other methods with 405 and Allow, other paths 404', async () => {
    expect((await api('DELETE', path(mine))).status).toBe(401);
    const res = await api('DELETE', path(mine), { token: issue(mine) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await download(`/api/v1/artifacts/${mine.modelId}`, issue(mine))).status).toBe(404);
    expect((await download(`/api/v1/artifacts/${mine.modelId}`)).status).toBe(401);
  });
});
