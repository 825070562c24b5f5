import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedStack } from '../support/distributed-stack.js';
import { PlatformClient } from '../support/client.js';

const WS = 73;

interface LogLine {
  replica: string;
  at: string;
  line: string;
}

/**
 * Replica logs in distributed mode: the replicas run under the provisioner process, the gateway reads their lines
 * through the provisioner's internal endpoint (RGPU_PROVISIONER_URLS) with a logs token; without the variable a
 * gateway answers 503 logs_unavailable. The endpoint itself takes no user token.
 */
describe('distributed replica logs: gateway → provisioner internal endpoint', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let id: string;

  beforeAll(async () => {
    stack = await DistributedStack.start({ gateways: 0 });
    await stack.spawn('gateway', { RGPU_PROVISIONER_URLS: stack.provisioners.map((p) => p.url).join(',') });
    api = new PlatformClient(stack.url, await stack.token({ workspaces: [WS] }));
    const modelId = await stack.registerColorModel(WS, api.token, 'v1');
    id = await api.createService({ name: 'dist-logs', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1, cpu: 0.5 });
    await api.waitRunning(id, 1, 60_000);
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it("reads the replica's lines, follows a new one over SSE, and refuses a foreign token (404)", async () => {
    const read = async (query: string) => {
      const res = await api.call('GET', `/inference/services/${id}/logs${query}`);
      expect(res.status).toBe(200);
      return res.body.data.items as LogLine[];
    };
    const lines = await read('?tail=100');
    expect(lines.some((l) => l.replica.startsWith(id) && l.line.includes('"listening"'))).toBe(true);
    expect(await read('?tail=1')).toHaveLength(1);

    const abort = new AbortController();
    const sse = await fetch(`${stack.url}/api/v1/inference/services/${id}/logs?follow=true&tail=1`, { headers: { authorization: `Bearer ${api.token}` }, signal: abort.signal });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    let text = '';
    const refused = await api.call('POST', `/inference/services/${id}/predict`, { inputs: { image: 'aGVsbG8=' } });
    expect(refused.status).toBeLessThan(500);
    const deadline = Date.now() + 15_000;
    while (!text.includes('request refused')) {
      if (Date.now() > deadline) throw new Error(`no new line followed: ${text}`);
      const chunk = await reader.read();
      if (chunk.done) throw new Error('the stream ended');
      text += new TextDecoder().decode(chunk.value);
    }
    abort.abort();

    const foreign = new PlatformClient(stack.url, await stack.token({ workspaces: [WS + 1] }));
    expect((await foreign.call('GET', `/inference/services/${id}/logs`)).status).toBe(404);
  });

  it('the internal endpoint takes only a logs token for that service, never a user token', async () => {
    const url = `${stack.provisioners[0]!.url}/internal/v1/services/${id}/logs`;
    expect((await fetch(url)).status).toBe(401);
    const admin = await stack.token({ admin: true });
    expect((await fetch(url, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(401);
  });

  it('a gateway without RGPU_PROVISIONER_URLS answers 503 logs_unavailable', async () => {
    const plain = await stack.spawn('gateway');
    const res = await fetch(`${plain.url}/api/v1/inference/services/${id}/logs`, { headers: { authorization: `Bearer ${api.token}`, 'accept-language': 'en' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: number }).code).toBe(50300);
  });
});
