import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { colorImage, PlatformClient } from '../support/client.js';

/**
 * The Prometheus series a user expects per service (issue 10), scraped from the real platform's /metrics after a
 * create and predictions: status and replica gauges, request counter and latency histograms of the data plane.
 */
const WS = 51;
let p: TestPlatform;
let client: PlatformClient;
let serviceId: string;

async function scrape(): Promise<string> {
  const res = await fetch(`${p.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of the one sample with exactly these labels (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const found = Object.fromEntries([...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v)) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

beforeAll(async () => {
  p = await startTestPlatform();
  const token = await p.token({ workspaces: [WS] });
  client = new PlatformClient(p.url, token);
  const { modelId, version } = await p.registerColorModel(WS, token);
  serviceId = await client.createService({ name: 'metered', workspace_id: WS, model_id: modelId, model_version: version, replicas: 1, cpu: 0.5 });
}, 60_000);

afterAll(() => p?.stop());

describe('/metrics per service', () => {
  it('reports status and ready/desired replicas, then requests and latency after predictions, and drops a deleted service', async () => {
    const detail = await client.waitRunning(serviceId, 1);
    const id = { service: serviceId, name: 'metered', workspace: String(WS) };
    let text = await scrape();
    expect(sample(text, 'rgpu_service_status', { ...id, status: 'running' })).toBe(1);
    for (const other of ['creating', 'updating', 'stopping', 'stopped', 'failed']) expect(sample(text, 'rgpu_service_status', { ...id, status: other })).toBe(0);
    expect(sample(text, 'rgpu_service_replicas_desired', id)).toBe(1);
    expect(sample(text, 'rgpu_service_replicas_ready', id)).toBe(1);
    expect(text).toContain('# TYPE rgpu_service_status gauge');

    // One prediction through the REST API and one on the service's own endpoint: both are the data plane.
    const image = await colorImage('red', 'png', 16, 16);
    expect((await client.call('POST', `/inference/services/${serviceId}/predict`, { inputs: { image } })).status).toBe(200);
    expect((await client.fetchJson(`${detail.endpoint_url}/predict`, 'POST', { inputs: { image } })).status).toBe(200);
    text = await scrape();
    expect(sample(text, 'rgpu_router_requests_total', { service: serviceId, outcome: 'ok' })).toBe(2);
    expect(sample(text, 'rgpu_router_request_duration_seconds_count', { service: serviceId })).toBe(2);
    expect(sample(text, 'rgpu_router_request_duration_seconds_bucket', { service: serviceId, le: '+Inf' })).toBe(2);
    expect(sample(text, 'rgpu_router_request_duration_seconds_sum', { service: serviceId })).toBeGreaterThan(0);
    expect(sample(text, 'rgpu_router_upstream_duration_seconds_count', { service: serviceId })).toBe(2);
    expect(text).toContain('# TYPE rgpu_router_request_duration_seconds histogram');

    // Stopped: desired 0, status stopped; deleted: its series are gone.
    expect((await client.call('POST', `/inference/services/${serviceId}/stop`)).status).toBe(200);
    await client.waitForDetail(serviceId, (d) => d.status === 'stopped', 'stopped');
    await new Promise((r) => setTimeout(r, 1_100)); // past the gauges' one-second snapshot
    text = await scrape();
    expect(sample(text, 'rgpu_service_status', { ...id, status: 'stopped' })).toBe(1);
    expect(sample(text, 'rgpu_service_replicas_desired', id)).toBe(0);
    expect((await client.call('DELETE', `/inference/services/${serviceId}`)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 1_100));
    text = await scrape();
    expect(sample(text, 'rgpu_service_status', { ...id, status: 'stopped' })).toBeUndefined();
    expect(sample(text, 'rgpu_service_replicas_ready', id)).toBeUndefined();
  });
});
