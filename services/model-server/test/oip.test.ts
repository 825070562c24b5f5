import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, dynamicInputOnnx, nonImageOnnx, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { getJson, imageBody, modelEnv, postJson, startModelServer, type ModelServerProcess } from './spawn.js';

const NAME = 'svc-test0000001';
let dir: TempDir;
let color: ModelServerProcess;
let ids: ModelServerProcess;
let dynamic: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-oip-');
  [color, ids, dynamic] = await Promise.all([
    modelEnv(dir.path, 'color.onnx', colorClassifierOnnx({ height: 2, width: 2 }), { RGPU_MODEL_VERSION: '3.1.0' }).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'ids.onnx', nonImageOnnx(), { RGPU_LABELS: JSON.stringify(['a', 'b', 'c', 'd']) }).then((env) => startModelServer({ env })),
    // A dynamic height and width need the size images are resized to (core's imageClassifierSignature).
    modelEnv(dir.path, 'dynamic.onnx', dynamicInputOnnx(), { RGPU_PREPROCESSING: JSON.stringify({ size: [30, 40] }) }).then((env) => startModelServer({ env })),
  ]);
});

afterAll(async () => {
  await Promise.all([color, ids, dynamic].filter(Boolean).map((s) => s.stop('SIGKILL')));
  await dir?.cleanup();
});

/** The colour classifier's logits for an image whose channels average r, g, b: 10·(I − ½) · [r,g,b]. */
function expectedScores(r: number, g: number, b: number): number[] {
  return [5 * r - 5 * g - 5 * b, -5 * r + 5 * g - 5 * b, -5 * r - 5 * g + 5 * b];
}

describe('Open Inference Protocol v2', () => {
  it('describes the server and the model, with the execution provider it runs on', async () => {
    const server = await getJson(`${color.url}/v2`);
    expect(server.status).toBe(200);
    expect(server.body).toMatchObject({ name: 'remotegpu-model-server', extensions: ['binary_tensor_data'] });
    const expected = {
      name: NAME,
      versions: ['3.1.0'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 2, 2] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 3] }],
      execution_provider: 'cpu',
    };
    const model = await getJson(`${color.url}/v2/models/${NAME}`);
    expect(model.status).toBe(200);
    expect(model.body).toEqual(expected); // no device_fallback_reason: nothing fell back
    const version = await getJson(`${color.url}/v2/models/${NAME}/versions/3.1.0`);
    expect(version.body).toEqual(expected);
    const int64 = await getJson(`${ids.url}/v2/models/${NAME}`);
    expect(int64.body.inputs).toEqual([{ name: 'ids', datatype: 'INT64', shape: [1, 4] }]);
    const symbolic = await getJson(`${dynamic.url}/v2/models/${NAME}`);
    expect(symbolic.body.inputs).toEqual([{ name: 'image', datatype: 'FP32', shape: [1, 3, -1, -1] }]);
  });

  it('answers 404 with an error for another model or version', async () => {
    for (const path of [`/v2/models/other`, `/v2/models/other/ready`, `/v2/models/${NAME}/versions/9`, `/v2/models/${NAME}/versions/9/ready`]) {
      const res = await getJson(`${color.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body.error, path).toMatch(/not served here/);
    }
    const infer = await postJson(`${color.url}/v2/models/${NAME}/versions/9/infer`, { inputs: [] });
    expect(infer.status).toBe(404);
    const unknownRoute = await getJson(`${color.url}/v2/models/${NAME}/stats`);
    expect(unknownRoute.status).toBe(404);
    expect(typeof unknownRoute.body.error).toBe('string');
  });

  it('reports the model ready', async () => {
    for (const path of [`/v2/models/${NAME}/ready`, `/v2/models/${NAME}/versions/3.1.0/ready`]) {
      const res = await getJson(`${color.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: NAME, ready: true });
    }
  });

  it('runs a raw tensor, flat or nested, and returns the model outputs', async () => {
    const [r, g, b] = [0.9, 0.2, 0.1];
    const flat = [r, r, r, r, g, g, g, g, b, b, b, b];
    const nested = [[[[r, r], [r, r]], [[g, g], [g, g]], [[b, b], [b, b]]]];
    for (const [path, data] of [
      [`/v2/models/${NAME}/infer`, flat],
      [`/v2/models/${NAME}/versions/3.1.0/infer`, nested],
    ] as const) {
      const res = await postJson(`${color.url}${path}`, { id: 'req-7', inputs: [{ name: 'image', shape: [1, 3, 2, 2], datatype: 'FP32', data }] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ model_name: NAME, model_version: '3.1.0', id: 'req-7' });
      expect(res.body.outputs).toHaveLength(1);
      const [out] = res.body.outputs;
      expect(out).toMatchObject({ name: 'scores', datatype: 'FP32', shape: [1, 3] });
      expectedScores(r, g, b).forEach((v, i) => expect(out.data[i]).toBeCloseTo(v, 4));
    }
  });

  it('returns only the outputs asked for, and 400 for an unknown one', async () => {
    const input = { name: 'image', shape: [1, 3, 2, 2], datatype: 'FP32', data: new Array(12).fill(0.5) };
    const named = await postJson(`${color.url}/v2/models/${NAME}/infer`, { inputs: [input], outputs: [{ name: 'scores' }] });
    expect(named.status).toBe(200);
    expect(named.body.outputs.map((o: { name: string }) => o.name)).toEqual(['scores']);
    expect(named.body.id).toBeUndefined();
    const unknown = await postJson(`${color.url}/v2/models/${NAME}/infer`, { inputs: [input], outputs: [{ name: 'logits' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/unknown output.*logits/);
  });

  it('converts other datatypes both ways (INT64 in, FP32 out)', async () => {
    const res = await postJson(`${ids.url}/v2/models/${NAME}/infer`, { inputs: [{ name: 'ids', shape: [1, 4], datatype: 'INT64', data: [[1, 2, 3, -4]] }] });
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual([{ name: 'values', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, -4] }]);
  });

  it('answers a request that does not fit the signature with 400 and the reason', async () => {
    const good = { name: 'image', shape: [1, 3, 2, 2], datatype: 'FP32', data: new Array(12).fill(0.5) };
    const cases: [unknown, RegExp][] = [
      [{ inputs: [{ ...good, datatype: 'FP64' }] }, /datatype is "FP64", the model expects FP32/],
      [{ inputs: [{ ...good, shape: [1, 3, 4, 4] }] }, /does not match the model's \[1,3,2,2\]/],
      [{ inputs: [{ ...good, data: [1, 2, 3] }] }, /holds 12 elements but data has 3/],
      [{ inputs: [{ ...good, name: 'pixels' }] }, /unexpected input "pixels"/],
      [{ inputs: [{ ...good, data: [...good.data.slice(1), 'x'] }] }, /element 11 .* expected a number/],
      [{ inputs: [] }, /non-empty array/],
      [{ inputs: [good, good] }, /given twice/],
      ['[1,2', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const res = await postJson(`${color.url}/v2/models/${NAME}/infer`, body);
      expect(res.status, String(message)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    const missing = await postJson(`${ids.url}/v2/models/${NAME}/infer`, { inputs: [{ name: 'ids', shape: [1, 4], datatype: 'INT64', data: [1, 2, 3, 4.5] }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/an integer for INT64/);
  });

  it('predicts with a model of dynamic height and width', async () => {
    const res = await postJson(`${dynamic.url}/predict`, imageBody(await solidImage('blue', { format: 'jpeg', width: 50, height: 70 })));
    expect(res.status).toBe(200);
    expect(res.body.data.predictions[0].class).toBe('blue');
  });

  it('refuses predict on a model that takes no image, naming the reason', async () => {
    const res = await postJson(`${ids.url}/predict`, imageBody(await solidImage('red', { format: 'png' })), { 'accept-language': 'en' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(res.body.message).toMatch(/does not take an image.*INT64.*\/v2 infer/);
    const zh = await postJson(`${ids.url}/predict`, imageBody(await solidImage('red', { format: 'png' })));
    expect(zh.body.message).toMatch(/^该模型不接受图像输入.*INT64/);
  });
});
