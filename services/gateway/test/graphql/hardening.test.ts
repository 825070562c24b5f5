import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { graphqlClient, onlyError } from './client.js';

const WS = 456;
const BODY_LIMIT = 64 * 1024;

/** Nothing in an error response may look like a stack trace or internal detail. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/stacktrace|\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+/i);
}

describe('GraphQL hardening', () => {
  let p: TestPlatform;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;

  beforeAll(async () => {
    p = await startTestPlatform({
      env: { RGPU_GRAPHQL_MAX_DEPTH: '4', RGPU_GRAPHQL_MAX_COST: '1000', RGPU_MAX_BODY_BYTES: String(BODY_LIMIT) },
    });
    gql = graphqlClient(p.url);
    token = await p.token({ sub: 'alice', workspaces: [WS] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  describe('authentication', () => {
    it('refuses every operation without a token: HTTP 401, code 40100, WWW-Authenticate', async () => {
      for (const query of ['{ __typename }', '{ inferenceServices { items { id } } }', 'mutation { deleteInferenceService(id: "svc-x") }']) {
        const res = await gql(query);
        expect(res.status, query).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(res.data).toBeUndefined();
        expect(onlyError(res)).toEqual({ message: expect.stringContaining('Authorization: Bearer'), extensions: { code: 40100, status: 401 } });
      }
    });

    it('refuses a malformed, wrongly signed or alg:none token with 401 in the requested language', async () => {
      const forged = await import('@remotegpu/testkit').then((t) => t.signToken('another-secret-0123456789-abcdefghijklmnop', { sub: 'x', workspaces: [WS] }));
      const unsigned = await import('@remotegpu/testkit').then((t) => t.unsignedToken({ sub: 'x', workspaces: [WS] }));
      for (const bad of ['not-a-jwt', forged, unsigned]) {
        const res = await gql('{ __typename }', { token: bad, language: 'en' });
        expect(res.status).toBe(401);
        expect(onlyError(res).extensions.code).toBe(40100);
        expect(onlyError(res).message).toMatch(/access token/i);
      }
    });
  });

  describe('CSRF prevention', () => {
    it('refuses a GET query without a content-type or preflight header, and serves it with one', async () => {
      const url = `${p.url}/graphql?query=${encodeURIComponent('{ __typename }')}`;
      const simple = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(simple.status).toBe(400);
      const body = ((await simple.json()) as any);
      expect(body.errors[0].extensions).toEqual({ code: 40000, status: 400 });
      expect(body.errors[0].message).toMatch(/CSRF/);

      const preflighted = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
      expect(preflighted.status).toBe(200);
      expect(((await preflighted.json()) as any)).toEqual({ data: { __typename: 'Query' } });
    });

    it('refuses a simple cross-site POST (text/plain)', async () => {
      const res = await fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: JSON.stringify({ query: 'mutation { deleteInferenceService(id: "svc-x") }' }),
      });
      expect(res.status).toBe(400);
      expect((((await res.json()) as any)).errors[0].extensions.code).toBe(40000);
    });

    it('refuses a mutation over GET', async () => {
      const url = `${p.url}/graphql?query=${encodeURIComponent('mutation { deleteInferenceService(id: "svc-x") }')}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
      expect(res.status).toBe(405);
      expect((((await res.json()) as any)).errors[0].extensions.code).toBe(40000);
    });
  });

  describe('depth and cost limits', () => {
    it('refuses a query deeper than the limit, fragments included, before running it', async () => {
      const deep = await gql(`{ models { items { versions { inputs { name } } } } }`, { token, language: 'en' }); // depth 5
      expect(deep.status).toBe(400);
      expect(onlyError(deep)).toMatchObject({ message: expect.stringMatching(/nested 5 levels deep; the limit is 4/), extensions: { code: 40000, status: 400, reason: 'depth_limit' } });

      const viaFragment = await gql(`query { models { ...M } } fragment M on ModelPage { items { versions { outputs { shape } } } }`, { token });
      expect(viaFragment.status).toBe(400);
      expect(onlyError(viaFragment).message).toMatch(/查询嵌套深度 5 超过上限 4/);

      const allowed = await gql(`{ models { items { versions { version } } } }`, { token }); // depth 4
      expect(allowed.errors, allowed.text).toBeUndefined();
    });

    it('does not count introspection towards the depth, so tools can load the schema', async () => {
      const res = await gql(`{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`, { token });
      expect(res.errors, res.text).toBeUndefined();
    });

    it('refuses a query whose cost exceeds the limit, counting page sizes from variables and aliases', async () => {
      const expensive = `query($n: Int) { inferenceServices(pageSize: $n) { items { id name status events { type status at } } } }`;
      const big = await gql(expensive, { token, variables: { n: 100 }, language: 'en' });
      expect(big.status).toBe(400);
      expect(onlyError(big)).toMatchObject({ message: expect.stringMatching(/costs \d+; the limit is 1000/), extensions: { code: 40000, status: 400, reason: 'cost_limit' } });

      const small = await gql(expensive, { token, variables: { n: 2 } });
      expect(small.errors, small.text).toBeUndefined();

      // Each copy is cheap (1 + 10 × 2 = 21); fifty aliased copies are not.
      const one = `inferenceServices(pageSize: 10) { items { id } }`;
      const fine = await gql(`{ ${one} }`, { token });
      expect(fine.errors, fine.text).toBeUndefined();
      const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: ${one}`).join(' ');
      const wide = await gql(`{ ${aliases} }`, { token, language: 'en' });
      expect(wide.status).toBe(400);
      expect(onlyError(wide)).toMatchObject({ message: expect.stringMatching(/costs 1050;/), extensions: { code: 40000, reason: 'cost_limit' } });
    });
  });

  describe('error format', () => {
    it('answers a syntax error with 400, code 40000 and no stack trace', async () => {
      const res = await gql('{ inferenceServices { ', { token });
      expect(res.status).toBe(400);
      expect(onlyError(res).extensions).toEqual({ code: 40000, status: 400 });
      expectNoInternals(res.text);
    });

    it('answers an unknown field and a bad variable with 400 and code 40000', async () => {
      const unknown = await gql('{ secrets }', { token });
      expect(unknown.status).toBe(400);
      expect(onlyError(unknown).extensions.code).toBe(40000);

      const tooBig = await gql(`mutation($m: SafeInt) { updateInferenceService(id: "svc-x", input: { memory: $m }) { id } }`, {
        token,
        variables: { m: 2 ** 60 },
      });
      expect(tooBig.status).toBe(400);
      expect(onlyError(tooBig).extensions.code).toBe(40000);
      expect(onlyError(tooBig).message).toMatch(/SafeInt/);
      expectNoInternals(tooBig.text);
    });

    it('answers a body over the limit with 413 / 41300 and malformed JSON with 400 / 40000', async () => {
      const large = await fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'accept-language': 'en' },
        body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(BODY_LIMIT) } }),
      });
      expect(large.status).toBe(413);
      expect(((await large.json()) as any)).toEqual({ errors: [{ message: `Request body too large; the limit is ${BODY_LIMIT} bytes`, extensions: { code: 41300, status: 413 } }] });

      const broken = await fetch(`${p.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"query": ',
      });
      expect(broken.status).toBe(400);
      const text = await broken.text();
      expect(JSON.parse(text).errors[0].extensions).toEqual({ code: 40000, status: 400 });
      expectNoInternals(text);
    });
  });
});

describe('GraphQL with introspection off', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ env: { RGPU_GRAPHQL_INTROSPECTION: 'false' } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('refuses introspection and gives no field suggestions, but still runs operations', async () => {
    const gql = graphqlClient(p.url);
    const token = await p.token({ workspaces: [1] });
    const introspection = await gql('{ __schema { types { name } } }', { token });
    expect(introspection.status).toBe(400);
    expect(onlyError(introspection).extensions.code).toBe(40000);
    const typo = await gql('{ inferenceService(id: "svc-x") { nam } }', { token });
    expect(onlyError(typo).message).not.toMatch(/Did you mean/);
    const ok = await gql('{ inferenceService(id: "svc-x") { name } }', { token });
    expect(ok.data).toEqual({ inferenceService: null });
  });
});
