import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, COLOR_LABELS, trickleBody, trickleHeaders, type SlowClientOutcome } from '@remotegpu/testkit';
import { PlatformClient, waitFor } from './support/client.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { subscribeStatuses } from './support/ws.js';

/**
 * The gateway's HTTP server (REST, GraphQL and, in the standalone process, the data plane on the same port)
 * cuts off clients that send too slowly, with short limits here to keep the test fast, while it keeps serving
 * everyone else; an upload that is slow but steady is not cut.
 */
const WS = 41;
let p: TestPlatform;
let auth: Record<string, string>;

beforeAll(async () => {
  p = await startTestPlatform({
    env: {
      RGPU_HTTP_HEADERS_TIMEOUT_MS: '1000',
      RGPU_HTTP_BODY_TIMEOUT_MS: '1000',
      RGPU_HTTP_BODY_MIN_BYTES_PER_S: '64',
    },
  });
  auth = { authorization: `Bearer ${await p.token({ sub: 'slow', workspaces: [WS] })}` };
});

afterAll(async () => {
  await p?.stop();
});

function expectCutOff(outcome: SlowClientOutcome, what: string): void {
  expect(outcome, what).toMatchObject({ closedByServer: true, status: 408 });
  // 1 s limit, checked every 250 ms; generous for a loaded machine, far below the minutes it took before.
  expect(outcome.elapsedMs, what).toBeGreaterThanOrEqual(900);
  expect(outcome.elapsedMs, what).toBeLessThan(5000);
}

async function createModel(name: string): Promise<number> {
  const created = await fetch(`${p.url}/api/v1/models`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name, workspace_id: WS, framework: 'onnx' }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { data: { model_id: number } }).data.model_id;
}

describe('gateway: slow clients', () => {
  it('answers 408 to trickled headers and trickled bodies on REST, GraphQL and model upload, serving others meanwhile', async () => {
    const modelId = await createModel('trickled-upload');
    const slow = { intervalMs: 200, giveUpAfterMs: 10_000 };
    const cases: [string, Promise<SlowClientOutcome>][] = [
      ['headers of GET /api/v1/inference/services', trickleHeaders(p.url, { ...slow, path: '/api/v1/inference/services' })],
      ['body of POST /api/v1/models', trickleBody(p.url, { ...slow, path: '/api/v1/models', headers: auth })],
      ['body of POST /graphql', trickleBody(p.url, { ...slow, path: '/graphql', headers: auth })],
      [
        'body of a model upload',
        trickleBody(p.url, {
          ...slow,
          path: `/api/v1/models/${modelId}/versions`,
          headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' },
        }),
      ],
    ];
    // Answered at once without reading the body (no such service); the never-ending body then costs the connection.
    const unreadBody = trickleBody(p.url, { ...slow, path: '/inference/svc-nothere000000/predict', headers: auth });

    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await fetch(`${p.url}/api/v1/inference/services?workspace_id=${WS}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
    }
    for (const [what, outcome] of cases) expectCutOff(await outcome, what);
    const unread = await unreadBody;
    expect(unread).toMatchObject({ closedByServer: true, status: 404 });
    expect(unread.elapsedMs).toBeLessThan(5000);
  });

  it('lets a model upload that is slow but steady run well past the body timeout', async () => {
    const modelId = await createModel('steady-upload');

    const form = new FormData();
    form.set('version', 'v1');
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
    const encoded = new Response(form);
    const bytes = new Uint8Array(await encoded.arrayBuffer());
    // 32 bytes every 100 ms: five times the 64 B/s minimum, for about twice the 1 s body timeout.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let at = 0; at < bytes.length; at += 32) {
          controller.enqueue(bytes.subarray(at, at + 32));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        controller.close();
      },
    });
    const started = performance.now();
    const uploaded = await fetch(`${p.url}/api/v1/models/${modelId}/versions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': encoded.headers.get('content-type')! },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(uploaded.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThan(1500);
  });

  it('leaves a graphql-ws connection alone however long it idles past the limits', async () => {
    const token = await p.token({ sub: 'slow', workspaces: [WS] });
    const stream = subscribeStatuses(p.url, token, { workspaceId: WS });
    await stream.connected;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the 1 s header and body limits
    expect(stream.ended).toBeUndefined();
    const api = new PlatformClient(p.url, token);
    const model = await p.registerColorModel(WS, token, { name: 'idle-socket' });
    const id = await api.createService({ name: 'idle-socket', workspace_id: WS, model_id: model.modelId, model_version: model.version, gpu: 0 });
    await waitFor(() => stream.of(id).length, (n) => n > 0, 'a status event on the idle socket', 10_000);
    expect(stream.ended).toBeUndefined();
    await stream.dispose();
  });
});
