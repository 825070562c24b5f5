import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { PlatformClient } from '../support/client.js';

/**
 * Replica logs (issue 10) on the real standalone platform: model-server child processes write their lines, the
 * local runtime keeps them (memory + a file under the data directory), REST, SSE and GraphQL read them.
 */
const WS = 41;
let p: TestPlatform;
let client: PlatformClient;
let token: string;
let serviceId: string;

interface LogLine {
  replica: string;
  at: string;
  stream: string;
  line: string;
}

async function logs(query = '', bearer = token): Promise<{ status: number; body: { code: number; message: string; data?: { items: LogLine[]; errors?: { field: string }[] } } }> {
  const res = await fetch(`${p.url}/api/v1/inference/services/${serviceId}/logs${query}`, { headers: { authorization: `Bearer ${bearer}`, 'accept-language': 'en' } });
  return { status: res.status, body: (await res.json()) as { code: number; message: string; data?: { items: LogLine[]; errors?: { field: string }[] } } };
}

/** A predict the replica refuses (not an image): it writes a `request refused` line on stderr. */
async function refusedPredict(): Promise<void> {
  const res = await client.call('POST', `/inference/services/${serviceId}/predict`, { inputs: { image: 'aGVsbG8=' } });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  p = await startTestPlatform();
  token = await p.token({ workspaces: [WS] });
  client = new PlatformClient(p.url, token);
  const { modelId, version } = await p.registerColorModel(WS, token);
  serviceId = await client.createService({ name: 'logs', workspace_id: WS, model_id: modelId, model_version: version, replicas: 2, cpu: 0.5 });
  await client.waitRunning(serviceId, 2);
}, 60_000);

afterAll(() => p?.stop());

describe('GET /api/v1/inference/services/{id}/logs', () => {
  it("returns both replicas' lines, oldest first, with the model server's listening line and a refused request's line", async () => {
    await refusedPredict();
    const items = await until('the refused request in the logs', async () => {
      const res = await logs();
      expect(res.status).toBe(200);
      return res.body.data!.items.some((l) => l.line.includes('request refused')) ? res.body.data!.items : undefined;
    });
    const replicas = [...new Set(items.map((l) => l.replica))];
    expect(replicas).toHaveLength(2);
    for (const r of replicas) {
      expect(r.startsWith(serviceId)).toBe(true);
      // The stdout protocol line is kept too (and the runtime still parsed it: the service runs).
      expect(items.some((l) => l.replica === r && l.stream === 'stdout' && l.line.includes('"listening"'))).toBe(true);
    }
    const refused = items.find((l) => l.line.includes('request refused'))!;
    expect(refused.stream).toBe('stderr');
    expect(JSON.parse(refused.line)).toMatchObject({ method: 'POST', status: expect.any(Number) });
    expect([...items.map((l) => l.at)]).toEqual([...items.map((l) => l.at)].sort());
    // Written to the data directory as well, one file per replica.
    const file = join(p.dataDir, 'runtime', 'logs', serviceId, `${refused.replica}.log`);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('request refused');
  });

  it('filters by replica, cuts to tail and keeps lines since a time or a duration', async () => {
    const all = (await logs('?tail=5000')).body.data!.items;
    const one = all[0]!.replica;
    const mine = (await logs(`?replica=${one}&tail=5000`)).body.data!.items;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((l) => l.replica === one)).toBe(true);
    expect(mine.length).toBeLessThan(all.length);
    const last2 = (await logs('?tail=2')).body.data!.items;
    expect(last2).toEqual(all.slice(-2));
    expect((await logs(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data!.items).toEqual([]);
    expect((await logs('?since=1h&tail=5000')).body.data!.items).toEqual(all);
    const middle = all[Math.floor(all.length / 2)]!.at;
    const later = (await logs(`?since=${encodeURIComponent(middle)}&tail=5000`)).body.data!.items;
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((l) => l.at >= middle)).toBe(true);
    expect((await logs('?replica=svc-nosuchreplica00-abcdef')).body.data!.items).toEqual([]);
  });

  it('follows as server-sent events: the tail first, then a new line as it is written', async () => {
    const abort = new AbortController();
    const res = await fetch(`${p.url}/api/v1/inference/services/${serviceId}/logs?follow=true&tail=1`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const events = (): LogLine[] =>
      text
        .split('\n\n')
        .filter((block) => block.startsWith('event: log\n'))
        .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as LogLine);
    const readUntil = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`no such event in: ${text}`);
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the stream ended');
        text += decoder.decode(chunk.value, { stream: true });
      }
    };
    await readUntil(() => events().length >= 1);
    const before = events().length;
    await refusedPredict();
    await readUntil(() => events().slice(before).some((l) => l.line.includes('request refused')));
    abort.abort();
  });

  it("answers 404 for another workspace's service and for an unknown one", async () => {
    const foreign = await p.token({ workspaces: [WS + 1] });
    const res = await logs('', foreign);
    expect([res.status, res.body.code]).toEqual([404, 40400]);
    const sse = await fetch(`${p.url}/api/v1/inference/services/${serviceId}/logs?follow=true`, { headers: { authorization: `Bearer ${foreign}` } });
    expect(sse.status).toBe(404);
    const unknown = await fetch(`${p.url}/api/v1/inference/services/svc-aaaaaaaaaaaaaaaa/logs`, { headers: { authorization: `Bearer ${token}` } });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${p.url}/api/v1/inference/services/${serviceId}/logs`)).status).toBe(401);
  });

  it('refuses a bad query with 400 naming each field', async () => {
    const res = await logs('?tail=0&since=yesterday&follow=maybe&replica=../../etc');
    expect([res.status, res.body.code]).toEqual([400, 40000]);
    expect(res.body.data!.errors!.map((e) => e.field).sort()).toEqual(['follow', 'replica', 'since', 'tail']);
    expect((await logs('?tail=5001')).status).toBe(400);
    expect((await logs('?tail=1e3')).status).toBe(400);
  });
});

describe('GraphQL inferenceServiceLogs', () => {
  it('returns the same lines, null for a foreign service, 40000 for a bad tail', async () => {
    const query = 'query($id: ID!, $tail: Int, $replica: String) { inferenceServiceLogs(id: $id, tail: $tail, replica: $replica) { replica at stream line } }';
    const rest = (await logs('?tail=3')).body.data!.items;
    const res = await client.graphql(query, { id: serviceId, tail: 3 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.inferenceServiceLogs).toEqual(rest);
    const foreign = await new PlatformClient(p.url, await p.token({ workspaces: [WS + 1] })).graphql(query, { id: serviceId });
    expect(foreign.body).toEqual({ data: { inferenceServiceLogs: null } });
    const bad = await client.graphql(query, { id: serviceId, tail: 0 });
    expect(bad.body.errors[0].extensions.code).toBe(40000);
  });
});

describe('GraphQL subscription inferenceServiceLogLine', () => {
  function subscribe(bearer: string) {
    const client = createClient({ url: `${p.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${bearer}` }, retryAttempts: 0, lazy: true });
    const lines: LogLine[] = [];
    const errors: unknown[] = [];
    const unsubscribe = client.subscribe<{ inferenceServiceLogLine: LogLine }>(
      { query: 'subscription($id: ID!) { inferenceServiceLogLine(id: $id) { replica at stream line } }', variables: { id: serviceId } },
      { next: (r) => (r.errors ? errors.push(...r.errors) : lines.push(r.data!.inferenceServiceLogLine)), error: (e) => errors.push(e), complete: () => undefined },
    );
    return { lines, errors, dispose: async () => (unsubscribe(), await client.dispose()) };
  }

  it('delivers a new line as it is written; another workspace gets 40400', async () => {
    const sub = subscribe(token);
    try {
      // Subscribed once a first line arrives or a moment has passed; then a refused predict writes a new one.
      await new Promise((r) => setTimeout(r, 300));
      await refusedPredict();
      await until('a subscribed line', async () => (sub.lines.some((l) => l.line.includes('request refused')) ? true : undefined));
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.dispose();
    }
    const foreign = subscribe(await p.token({ workspaces: [WS + 1] }));
    try {
      const errors = await until('the 40400', async () => (foreign.errors.length > 0 ? foreign.errors : undefined));
      expect(JSON.stringify(errors)).toContain('40400');
    } finally {
      await foreign.dispose();
    }
  });
});
