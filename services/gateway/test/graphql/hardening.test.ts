import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { graphqlClient, onlyError } from './client.js';
import { doublingFragments } from './documents.js';
import { subscribeStatus, waitUntil, wsClient } from './ws-client.js';

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

  describe('fragment bombs (documents that expand exponentially)', () => {
    /** Polls /healthz until `during` settles; the latency of every probe, in ms. */
    async function healthzWhile(during: Promise<unknown>): Promise<number[]> {
      let settled = false;
      const done = during.finally(() => (settled = true));
      const latencies: number[] = [];
      do {
        const started = performance.now();
        const res = await fetch(`${p.url}/healthz`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        latencies.push(performance.now() - started);
      } while (!settled);
      await done;
      return latencies;
    }
    const ms = (values: number[]) => `max ${Math.max(...values).toFixed(1)} ms over ${values.length}`;

    it('refuses the 30-level doubling query with 400 while /healthz keeps answering', async () => {
      const attack = doublingFragments(30); // 2^31 copies of a field once expanded
      const timings: number[] = [];
      const sending = Promise.all(
        Array.from({ length: 20 }, async () => {
          const started = performance.now();
          const res = await gql(attack, { token, language: 'en' });
          timings.push(performance.now() - started);
          return res;
        }),
      );
      const probes = await healthzWhile(sending);
      for (const res of await sending) {
        expect(res.status).toBe(400);
        expect(onlyError(res)).toMatchObject({ message: expect.stringMatching(/more than 1000 fields/), extensions: { code: 40000, status: 400, reason: 'cost_limit' } });
      }
      console.log(`30-level fragment bomb over HTTP: refusals ${ms(timings)} requests; /healthz meanwhile ${ms(probes)} probes`);
      expect(Math.max(...probes)).toBeLessThan(1_000);
    });

    it('refuses the 25-level query fast (it took 3.4 s to count before)', async () => {
      const started = performance.now();
      const res = await gql(doublingFragments(25), { token });
      const elapsed = performance.now() - started;
      console.log(`25-level fragment bomb over HTTP: refused in ${elapsed.toFixed(1)} ms`);
      expect(res.status).toBe(400);
      expect(onlyError(res).extensions).toMatchObject({ code: 40000, reason: 'cost_limit' });
      expect(elapsed).toBeLessThan(1_000);
    });

    it('refuses the 30-level doubling subscription over graphql-ws with an error, while /healthz keeps answering', async () => {
      const c = wsClient(p.url, { token, language: 'en' });
      try {
        const started = performance.now();
        const sub = subscribeStatus(c.client, {}, doublingFragments(30, 'Subscription'));
        const probes = await healthzWhile(waitUntil(() => sub.ended !== undefined, 'the subscription was refused', 20_000));
        const elapsed = performance.now() - started;
        expect(sub.errors).toEqual([
          { message: expect.stringMatching(/more than 1000 fields/), locations: expect.any(Array), extensions: { code: 40000, status: 400, reason: 'cost_limit' } },
        ]);
        expect(sub.events).toEqual([]);
        console.log(`30-level fragment bomb over graphql-ws: refused in ${elapsed.toFixed(1)} ms; /healthz meanwhile ${ms(probes)} probes`);
        expect(Math.max(...probes)).toBeLessThan(1_000);
      } finally {
        await c.dispose();
      }
    });

    it('caps the fragment spreads of a document', async () => {
      const spreads = Array.from({ length: 501 }, () => '...F').join(' ');
      const res = await gql(`{ ${spreads} } fragment F on Query { __typename }`, { token, language: 'en' });
      expect(res.status).toBe(400);
      expect(onlyError(res)).toMatchObject({ message: 'The document contains 501 fragment spreads (...); the limit is 500.', extensions: { code: 40000, reason: 'fragment_limit' } });
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

describe('a subscription sent over HTTP', () => {
  let p: TestPlatform;
  const logged: string[] = [];
  beforeAll(async () => {
    p = await startTestPlatform({ logger: pino({ level: 'debug' }, { write: (line: string) => logged.push(line) }) });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('answers 400 saying subscriptions use WebSocket on /graphql, over POST and GET, and logs no error', async () => {
    const token = await p.token({ workspaces: [WS] });
    const document = 'subscription { inferenceServiceStatusChanged { status } }';
    const post = await graphqlClient(p.url)(document, { token, language: 'en' });
    const get = await fetch(`${p.url}/graphql?query=${encodeURIComponent(document)}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true', 'accept-language': 'en' },
    });
    const getText = await get.text();
    for (const [status, text] of [[post.status, post.text], [get.status, getText]] as const) {
      expect(status).toBe(400);
      expect(JSON.parse(text)).toEqual({
        errors: [
          {
            message: expect.stringMatching(/^Subscriptions use WebSocket: connect to \/graphql with the graphql-ws protocol/),
            locations: [{ line: 1, column: 1 }],
            extensions: { code: 40000, status: 400, reason: 'subscription_over_http' },
          },
        ],
      });
      expectNoInternals(text);
    }
    const zh = await graphqlClient(p.url)(document, { token });
    expect(onlyError(zh).message).toMatch(/WebSocket/);
    const problems = logged.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((entry) => entry.level >= 50 || /stack/i.test(JSON.stringify(entry)));
    expect(problems).toEqual([]);
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
