import { afterEach, describe, expect, it } from 'vitest';
import { echo, postJson, startBackend, startHarness, type Backend, type Harness } from './router.harness.js';

interface Echoed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

describe('router forwarding', () => {
  let h: Harness;
  let backends: Backend[] = [];

  afterEach(async () => {
    await h?.close();
    await Promise.all(backends.map((b) => b.close()));
    backends = [];
  });

  it('forwards predict to POST /predict with the body, a request id, and without the client’s token', async () => {
    h = await startHarness({ publicUrl: 'https://api.example.com' });
    const replica = await startBackend(echo);
    backends.push(replica);
    const svc = await h.service([replica.endpoint()]);
    const body = { inputs: { image: 'aGVsbG8=' }, parameters: { top_k: 2 } };

    const res = await postJson(h, `${h.predictUrl(svc.id)}?trace=1`, body, {
      headers: { 'x-request-id': 'req-42', connection: 'keep-alive', 'x-custom': 'kept' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const seen = (await res.json()) as Echoed;
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/predict?trace=1');
    expect(JSON.parse(seen.body)).toEqual(body);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-request-id']).toBe('req-42');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['content-length']).toBe(String(JSON.stringify(body).length));
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-host']).toBe('api.example.com');

    // Without a client request id, the router makes one and tells both sides.
    const fresh = await postJson(h, h.predictUrl(svc.id), body);
    const freshSeen = (await fresh.json()) as Echoed;
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(freshSeen.headers['x-request-id']).toBe(fresh.headers.get('x-request-id'));
  });

  it('forwards Open Inference Protocol paths, any method, with the query string', async () => {
    h = await startHarness();
    const replica = await startBackend(echo);
    backends.push(replica);
    const svc = await h.service([replica.endpoint()]);

    const meta = await h.request(`/inference/${svc.id}/v2/models/color.v1?verbose=true`);
    expect(meta.status).toBe(200);
    const metaSeen = (await meta.json()) as Echoed;
    expect(metaSeen.method).toBe('GET');
    expect(metaSeen.path).toBe('/v2/models/color.v1?verbose=true');
    expect(metaSeen.body).toBe('');
    expect(metaSeen.headers['content-length']).toBeUndefined();

    const infer = { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
    const inferred = await postJson(h, `/inference/${svc.id}/v2/models/color/infer`, infer);
    const inferSeen = (await inferred.json()) as Echoed;
    expect(inferSeen.path).toBe('/v2/models/color/infer');
    expect(JSON.parse(inferSeen.body)).toEqual(infer);

    const health = await h.request(`/inference/${svc.id}/v2/health/ready`, { method: 'HEAD' });
    expect(health.status).toBe(200);
    expect(((await (await h.request(`/inference/${svc.id}/v2`)).json()) as Echoed).path).toBe('/v2');
  });

  it('streams the replica’s answer back unchanged: status, content type, headers, body; drops hop-by-hop ones', async () => {
    h = await startHarness();
    const payload = Buffer.alloc(256 * 1024, 7);
    const replica = await startBackend((req, res) => {
      if (req.url === '/v2/models/missing') {
        res.writeHead(404, { 'content-type': 'application/problem+json', 'x-model-server': 'yes' });
        res.end('{"error":"model missing not found"}');
        return;
      }
      // Chunked, without a length: must arrive whole, re-framed for the client.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'keep-alive': 'timeout=77', 'x-chunks': '4' });
      for (let i = 0; i < 4; i++) res.write(payload.subarray(i * 65536, (i + 1) * 65536));
      res.end();
    });
    backends.push(replica);
    const svc = await h.service([replica.endpoint()]);

    const missing = await h.request(`/inference/${svc.id}/v2/models/missing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(missing.headers.get('x-model-server')).toBe('yes');
    expect(await missing.text()).toBe('{"error":"model missing not found"}');

    const big = await h.request(`/inference/${svc.id}/v2/models/big`);
    expect(big.status).toBe(200);
    expect(big.headers.get('content-type')).toBe('application/octet-stream');
    expect(big.headers.get('x-chunks')).toBe('4');
    expect(big.headers.get('keep-alive')).not.toBe('timeout=77');
    expect(Buffer.from(await big.arrayBuffer()).equals(payload)).toBe(true);
  });
});

describe('router metrics', () => {
  it('counts requests by service and outcome, and upstream latency per service', async () => {
    const h = await startHarness();
    const replica = await startBackend(echo);
    try {
      const svc = await h.service([replica.endpoint()]);
      for (let i = 0; i < 3; i++) await (await postJson(h, h.predictUrl(svc.id), {})).arrayBuffer();
      await (await postJson(h, h.predictUrl(svc.id), {}, { token: null })).arrayBuffer();
      const text = await h.metrics.metrics();
      expect(text).toContain(`rgpu_router_requests_total{service="${svc.id}",outcome="ok"} 3`);
      expect(text).toContain('rgpu_router_requests_total{service="",outcome="rejected"} 1');
      expect(text).toContain(`rgpu_router_upstream_duration_seconds_count{service="${svc.id}"} 3`);
      expect(text).toContain(`rgpu_router_upstream_duration_seconds_bucket{le="+Inf",service="${svc.id}"} 3`);
      // Counted once: a second scrape does not add the same requests again.
      expect(await h.metrics.metrics()).toContain(`rgpu_router_requests_total{service="${svc.id}",outcome="ok"} 3`);
    } finally {
      await h.close();
      await replica.close();
    }
  });
});
