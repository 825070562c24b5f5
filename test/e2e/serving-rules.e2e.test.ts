import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOR_LABELS, colorClassifierOnnx, dynamicInputOnnx, nanScoresOnnx, scoreMapOnnx, solidImage } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor, type PredictPath } from '../support/client.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- end-to-end tests read arbitrary JSON */

const WS = 61;
const HAN = /[\u4e00-\u9fff]/;

interface Answer {
  status: number;
  body: any;
}

/**
 * One rule decides whether predict can serve a model (core's imageClassifierSignature), and every message a
 * user reads follows Accept-Language: upload refuses what predict could not serve (422 per field, saying why),
 * everything upload accepts predicts, no confidence is ever anything but a number in [0,1], and the 409 on a
 * stopped service, replica errors, status_message and the history speak the request's language.
 */
describe('serving rules and languages end to end (real replicas)', () => {
  let p: TestPlatform;
  let api: PlatformClient; // English
  let token: string;
  let modelId: number;

  async function send(method: string, path: string, opts: { body?: unknown; form?: FormData; lang?: 'en' | 'zh' } = {}): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (opts.lang === 'en') headers['accept-language'] = 'en';
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path.startsWith('http') ? path : `${p.url}${path}`, {
      method,
      headers,
      body: opts.form ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  function versionForm(version: string, model: Buffer, labels: readonly string[], preprocessing?: unknown): FormData {
    const form = new FormData();
    form.set('version', version);
    form.set('labels', JSON.stringify(labels));
    if (preprocessing !== undefined) form.set('preprocessing', JSON.stringify(preprocessing));
    form.set('file', new Blob([new Uint8Array(model)]), 'model.onnx');
    return form;
  }

  const upload = (version: string, model: Buffer, labels: readonly string[], preprocessing?: unknown, lang?: 'en' | 'zh') =>
    send('POST', `/api/v1/models/${modelId}/versions`, { form: versionForm(version, model, labels, preprocessing), lang });

  async function serve(version: string): Promise<{ id: string; endpointUrl: string }> {
    const id = await api.createService({ name: `svc-${version}`, workspace_id: WS, model_id: modelId, model_version: version, replicas: 1 });
    const detail = await api.waitRunning(id, 1, 60_000);
    return { id, endpointUrl: detail.endpoint_url };
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    token = await p.token({ sub: 'rules', workspaces: [WS] });
    api = new PlatformClient(p.url, token);
    modelId = await api.createModel(WS, 'serving-rules');
  });
  afterAll(async () => {
    await p?.stop();
  });

  const sized = (size: [number, number]) => ({ size });
  const refused: [string, () => Buffer, readonly string[], unknown, string[], RegExp, RegExp][] = [
    ['a fixed batch of 4', () => colorClassifierOnnx({ batch: 4 }), COLOR_LABELS, undefined, ['file'], /fixed batch of 4 images, but predict sends one image at a time/, /每次 4 张图像/],
    ['a score map [N,1,H,W] (a text detector)', scoreMapOnnx, ['text'], sized([224, 224]), ['file'], /a map of scores per image rather than one vector of class scores/, /多维分数图/],
    ['a dynamic input without preprocessing.size', dynamicInputOnnx, COLOR_LABELS, undefined, ['preprocessing.size'], /is required: the height or width .* is dynamic/, /高度或宽度是动态的/],
    ['non-finite normalization', () => colorClassifierOnnx(), COLOR_LABELS, { mean: [1e308, 0, 0], std: [1e-308, 1, 1] }, ['preprocessing.mean[0]', 'preprocessing.std[0]'], /must be a finite number/, /有限数/],
    ['a size the fixed input contradicts', () => colorClassifierOnnx(), COLOR_LABELS, sized([64, 64]), ['preprocessing.size'], /contradicts the fixed size \[32,32\]/, /不一致/],
    ['labels of another count', () => colorClassifierOnnx(), ['cat', 'dog'], undefined, ['labels'], /labels has 2 entries but .* has 3 classes/, /不一致/],
    ['labels of another count behind a dynamic class dimension', () => colorClassifierOnnx({ dynamicClasses: true }), ['cat', 'dog'], undefined, ['labels'], /model outputs 3 class scores per image/, /不一致/],
  ];

  it.each(refused)('refuses at upload %s: 422 naming the field and why, in both languages', async (_what, model, labels, pre, fields, en, zh) => {
    const english = await upload('refused', model(), labels, pre, 'en');
    expect(english.status, JSON.stringify(english.body)).toBe(422);
    expect(english.body.code).toBe(42200);
    expect(english.body.data.errors.map((e: { field: string }) => e.field)).toEqual(fields);
    expect(english.body.data.errors[0].message).toMatch(en);
    expect(english.body.message).toMatch(en);
    expect(english.body.message).not.toMatch(HAN);
    const chinese = await upload('refused', model(), labels, pre);
    expect(chinese.status).toBe(422);
    expect(chinese.body.data.errors[0].message).toMatch(zh);
  });

  it('keeps none of the refused versions', async () => {
    const detail = await send('GET', `/api/v1/models/${modelId}`);
    expect(detail.body.data.versions).toEqual([]);
  });

  const accepted: [string, Buffer, unknown][] = [
    ['fixed', colorClassifierOnnx(), undefined],
    ['dynamic-batch', colorClassifierOnnx({ batch: 'N' }), undefined],
    ['dynamic-size', dynamicInputOnnx(), { size: [48, 40] }],
    ['dynamic-classes', colorClassifierOnnx({ dynamicClasses: true }), undefined],
    ['normalized-softmax', colorClassifierOnnx({ logits: false }), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }],
  ];
  const services = new Map<string, { id: string; endpointUrl: string }>();

  it('serves every version it accepted: the right colour, confidences in [0,1], through REST, the data plane and GraphQL', async () => {
    for (const [version, model, pre] of accepted) {
      const res = await upload(version, model, COLOR_LABELS, pre, 'en');
      expect(res.status, `${version}: ${JSON.stringify(res.body)}`).toBe(201);
      if (pre !== undefined) expect(res.body.data.preprocessing).toMatchObject(pre as object);
    }
    const started = await Promise.all(accepted.map(([version]) => serve(version)));
    accepted.forEach(([version], i) => services.set(version, started[i]));
    for (const [version] of accepted) {
      for (const path of ['rest', 'data-plane', 'graphql'] as PredictPath[]) {
        for (const color of ['red', 'blue'] as const) {
          const outcome = await predictVia(api, path, services.get(version)!, await colorImage(color, 'png', 50, 30));
          expect(predictionProblem(outcome, color), `${version} via ${path}`).toBeNull();
        }
      }
    }
  }, 180_000);

  it('never answers a confidence that is not a number: a model producing NaN is a 422 that says so, in the request language', async () => {
    expect((await upload('nan', nanScoresOnnx(), COLOR_LABELS, undefined, 'en')).status).toBe(201);
    const svc = await serve('nan');
    const image = await colorImage('red', 'png', 20, 20);
    for (const path of ['rest', 'data-plane', 'graphql'] as PredictPath[]) {
      const outcome = await predictVia(api, path, svc, image);
      expect(outcome.status, path).toBe(422);
      expect(outcome.code, path).toBe(42200);
      const message = path === 'graphql' ? (outcome.raw as any).errors[0].message : (outcome.raw as any).message;
      expect(message, path).toMatch(/^The model produced scores that are not finite numbers \(NaN or Infinity\)/);
    }
    const chinese = await send('POST', `/api/v1/inference/services/${svc.id}/predict`, { body: { inputs: { image } } });
    expect(chinese.status).toBe(422);
    expect(chinese.body.message).toMatch(/^模型输出 "scores" 含有非有限数值/);
    // The replica is not to blame: it stays in rotation and the next request reaches it again.
    expect((await predictVia(api, 'rest', svc, image)).status).toBe(422);
  }, 90_000);

  it("answers a replica's own errors (an undecodable image) in the request language through REST and GraphQL", async () => {
    const svc = services.get('fixed')!;
    const broken = (await solidImage('red', { format: 'png' })).subarray(0, 40).toString('base64');
    const english = await predictVia(api, 'rest', svc, broken);
    expect(english.status).toBe(400);
    expect((english.raw as any).message).toMatch(/could not be decoded/);
    const graphql = await predictVia(api, 'graphql', svc, broken);
    expect((graphql.raw as any).errors[0].message).toMatch(/could not be decoded/);
    const chinese = await send('POST', `/api/v1/inference/services/${svc.id}/predict`, { body: { inputs: { image: broken } } });
    expect(chinese.body.message).toMatch(/^无法解码图像/);
  });

  it('answers predict on a stopped service with a 409 in one language that says to start it', async () => {
    const svc = services.get('dynamic-batch')!;
    await api.expectOk('POST', `/inference/services/${svc.id}/stop`);
    await api.waitForDetail(svc.id, (d) => d.status === 'stopped', 'stopped');
    const image = await colorImage('red', 'png', 20, 20);
    for (const path of ['rest', 'data-plane', 'graphql'] as PredictPath[]) {
      const outcome = await predictVia(api, path, svc, image);
      expect(outcome.status, path).toBe(409);
      const message = path === 'graphql' ? (outcome.raw as any).errors[0].message : (outcome.raw as any).message;
      expect(message, path).toBe(
        `Inference service ${svc.id} is stopped and takes no predictions; start it first (POST /api/v1/inference/services/${svc.id}/start, or the GraphQL mutation startInferenceService)`,
      );
    }
    const chinese = await send('POST', `/api/v1/inference/services/${svc.id}/predict`, { body: { inputs: { image } } });
    expect(chinese.body.message).toMatch(/当前状态为已停止（stopped），不接受预测请求；请先启动服务/);
    expect(chinese.body.message).not.toMatch(/[a-z]{4,} and /); // no English sentence in it
  });

  it('words status_message and the history per request, Chinese by default (REST and GraphQL)', async () => {
    // This machine has no GPU for the tests (RGPU_LOCAL_GPUS=0): a GPU service fails at once with a reason and params.
    const id = await api.createService({ name: 'wants-a-gpu', workspace_id: WS, model_id: modelId, model_version: 'fixed', gpu: 1 });
    await api.waitForDetail(id, (d) => d.status === 'failed', 'failed');
    const english = await send('GET', `/api/v1/inference/services/${id}`, { lang: 'en' });
    expect(english.body.data).toMatchObject({ status_reason: 'gpu_request_exceeds_capacity', status_message: 'requested 1 GPUs per replica; this machine has 0' });
    const chinese = await send('GET', `/api/v1/inference/services/${id}`);
    expect(chinese.body.data.status_message).toBe('每个副本请求 1 个 GPU，而本机只有 0 个');

    const query = `query($id: ID!) { inferenceService(id: $id) { statusReason statusMessage events { type message } } }`;
    const gqlEn = await send('POST', '/graphql', { body: { query, variables: { id } }, lang: 'en' });
    expect(gqlEn.body.data.inferenceService.statusMessage).toBe('requested 1 GPUs per replica; this machine has 0');
    const gqlZh = await send('POST', '/graphql', { body: { query, variables: { id } } });
    expect(gqlZh.body.data.inferenceService.statusMessage).toBe('每个副本请求 1 个 GPU，而本机只有 0 个');

    await api.expectOk('PATCH', `/inference/services/${id}`, { replicas: 2, gpu: 0 });
    await api.expectOk('POST', `/inference/services/${id}/stop`);
    const history = async (lang?: 'en') => (await send('GET', `/api/v1/inference/services/${id}/events`, { lang })).body.data.items as { type: string; message: string | null }[];
    const lines = (items: { type: string; message: string | null }[]) => items.filter((e) => e.type !== 'created').map((e) => `${e.type}: ${e.message}`);
    const en = await waitFor(() => history('en'), (items) => items.some((e) => e.type === 'stop_requested'), 'stop in the history');
    expect(lines(en)).toEqual(
      expect.arrayContaining([
        'status_changed: requested 1 GPUs per replica; this machine has 0',
        'updated: changed gpu, replicas',
        'stop_requested: stop requested',
      ]),
    );
    expect(lines(await history())).toEqual(expect.arrayContaining(['status_changed: 每个副本请求 1 个 GPU，而本机只有 0 个', 'updated: 修改了 gpu, replicas', 'stop_requested: 已请求停止']));
    expect((gqlZh.body.data.inferenceService.events as { message: string | null }[]).some((e) => e.message === '每个副本请求 1 个 GPU，而本机只有 0 个')).toBe(true);
  }, 60_000);
});
