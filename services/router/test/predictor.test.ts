import { afterEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '@remotegpu/core';
import { deadEndpoint, delay, sendJson, backendPool, startHarness, type Backend, type Harness } from './router.harness.js';

/** A model server's predict in the seed format: classes by confidence, `top_k` honoured. */
const classifier = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer): void => {
  const request = JSON.parse(body.toString()) as { inputs: { image: string }; parameters?: { top_k?: number } };
  if (request.inputs.image === 'broken') {
    const english = req.headers['accept-language'] === 'en';
    sendJson(res, 400, {
      code: 40000,
      message: english ? 'The image could not be decoded' : '图片无法解码',
      data: { errors: [{ field: 'inputs.image', message: english ? 'not an image' : '不是图片' }] },
    });
    return;
  }
  const all = [
    { class: 'red', confidence: 0.7 },
    { class: 'green', confidence: 0.2 },
    { class: 'blue', confidence: 0.1 },
  ];
  sendJson(res, 200, { code: 0, message: 'success', data: { predictions: all.slice(0, request.parameters?.top_k ?? 5) } });
};

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAppError(outcome)) throw new Error(`expected an AppError, got ${String(outcome)}`);
  return outcome;
}

describe('router predictor (the gateway’s REST and GraphQL predict)', () => {
  let h: Harness;
  const pool = backendPool();
  const backend = pool.start;

  afterEach(async () => {
    await h?.close();
    await pool.closeAll();
  });

  it('returns the replica’s predictions, honouring top_k, through the same balancing and retry', async () => {
    h = await startHarness();
    const replica = await backend(classifier);
    const svc = await h.service([await deadEndpoint('down'), replica.endpoint('up')]);
    for (let i = 0; i < 4; i++) {
      expect(await h.router.predictor.predict(svc, { image: 'aGk=', topK: 2 })).toEqual([
        { class: 'red', confidence: 0.7 },
        { class: 'green', confidence: 0.2 },
      ]);
    }
    expect(await h.router.predictor.predict(svc, { image: 'aGk=' })).toHaveLength(3);
    expect(replica.hits).toBe(5);
  });

  it('keeps a replica’s error code, text (in the asked language) and field errors', async () => {
    h = await startHarness();
    const svc = await h.service([(await backend(classifier)).endpoint()]);
    const zh = await rejection(h.router.predictor.predict(svc, { image: 'broken' }));
    expect(zh.code).toBe(40000);
    expect(zh.localized.zh).toBe('图片无法解码');
    expect(zh.fields).toEqual([{ field: 'inputs.image', message: { zh: '不是图片', en: '不是图片' } }]);
    const en = await rejection(h.router.predictor.predict(svc, { image: 'broken' }, { language: 'en' }));
    expect(en.localized.en).toBe('The image could not be decoded');
  });

  it('throws the data plane’s errors: 409 stopped, 503 no replica or unreachable, 504 timeout, 429 queue full', async () => {
    h = await startHarness({ requestTimeoutMs: 300, maxInFlightPerReplica: 1, maxQueuePerService: 0 });
    const stopped = await h.service([], { status: 'stopped' });
    expect((await rejection(h.router.predictor.predict(stopped, { image: 'x' }))).code).toBe(40900);

    const empty = await h.service([], { status: 'creating' });
    const noReplica = await rejection(h.router.predictor.predict(empty, { image: 'x' }));
    expect(noReplica.code).toBe(50300);
    expect(noReplica.retryAfter).toBe(1);

    const unreachable = await h.service([await deadEndpoint()]);
    expect((await rejection(h.router.predictor.predict(unreachable, { image: 'x' }))).code).toBe(50300);

    const slow = await backend(async (req, res, body) => {
      await delay(1000);
      classifier(req, res, body);
    });
    const slowService = await h.service([slow.endpoint()]);
    const first = rejection(h.router.predictor.predict(slowService, { image: 'x' }));
    // The single slot is taken and the queue holds nothing: overloaded.
    const overloaded = await rejection(h.router.predictor.predict(slowService, { image: 'x' }));
    expect(overloaded.code).toBe(42900);
    expect(overloaded.retryAfter).toBe(1);
    expect((await first).code).toBe(50400);
  });

  it('uses the service the gateway just read when the table has not heard of it yet', async () => {
    h = await startHarness();
    const replica = await backend(classifier);
    const svc = await h.service([replica.endpoint()]);
    // The table has never seen this id (no event, no data-plane request): the argument seeds it.
    expect(await h.router.predictor.predict(svc, { image: 'x', topK: 1 })).toEqual([{ class: 'red', confidence: 0.7 }]);
  });
});
