import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, halfPrecisionOnnx, nonImageOnnx, tempDir, type TempDir } from '@remotegpu/testkit';
import { holdIncomplete, modelEnv, postJson, startModelServer, type ModelServerProcess } from './spawn.js';

// The binary tensor data extension of OIP v2 (what tritonclient sends by default): a JSON header of
// Inference-Header-Content-Length bytes, then the tensors' raw little-endian bytes.
const NAME = 'svc-test0000001';
let dir: TempDir;
let color: ModelServerProcess;
let ids: ModelServerProcess;
let half: ModelServerProcess;

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-oip-binary-');
  [color, ids, half] = await Promise.all([
    modelEnv(dir.path, 'color.onnx', colorClassifierOnnx({ height: 2, width: 2 })).then((env) => startModelServer({ env })),
    modelEnv(dir.path, 'ids.onnx', nonImageOnnx(), { RGPU_LABELS: JSON.stringify(['a', 'b', 'c', 'd']) }).then((env) => startModelServer({ env })),
    // Batching on: concurrent FP16 requests are stacked into one run.
    modelEnv(dir.path, 'half.onnx', halfPrecisionOnnx(), {
      RGPU_LABELS: JSON.stringify(['a', 'b', 'c', 'd']),
      RGPU_BATCHING: JSON.stringify({ max_batch_size: 8, max_queue_delay_ms: 300 }),
    }).then((env) => startModelServer({ env })),
  ]);
});

afterAll(async () => {
  await Promise.all([color, ids, half].filter(Boolean).map((s) => s.stop('SIGKILL')));
  await dir?.cleanup();
});

interface Answer {
  status: number;
  type: string | null;
  headerLength: string | null;
  header: { outputs?: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size: number } }[]; error?: string };
  binary: Buffer;
}

/** Posts a JSON header followed by binary parts; `headerLength` overrides the header's byte count. */
async function postBinary(server: ModelServerProcess, header: unknown, parts: Buffer[], headerLength?: string): Promise<Answer> {
  const json = Buffer.from(JSON.stringify(header));
  const res = await fetch(`${server.url}/v2/models/${NAME}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength ?? String(json.length) },
    body: Buffer.concat([json, ...parts]),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const length = res.headers.get('inference-header-content-length');
  const headerBytes = length === null ? bytes : bytes.subarray(0, Number(length));
  return { status: res.status, type: res.headers.get('content-type'), headerLength: length, header: JSON.parse(headerBytes.toString('utf8')), binary: bytes.subarray(headerBytes.length) };
}

const pixels = [0.9, 0.8, 0.85, 0.95, 0.1, 0.05, 0.1, 0.15, 0.2, 0.1, 0.15, 0.05]; // a red 2×2 image, NCHW
const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const i64 = (values: number[]) => Buffer.from(new BigInt64Array(values.map(BigInt)).buffer);
const imageInput = (extra: Record<string, unknown>) => ({ name: 'image', shape: [1, 3, 2, 2], datatype: 'FP32', ...extra });

describe('OIP v2 binary tensor data', () => {
  it('takes an FP32 input as raw bytes and answers what the same input as JSON gets', async () => {
    const json = await postJson(`${color.url}/v2/models/${NAME}/infer`, { inputs: [imageInput({ data: pixels })] });
    expect(json.status).toBe(200);
    const binary = await postBinary(color, { inputs: [imageInput({ parameters: { binary_data_size: 48 } })] }, [f32(pixels)]);
    expect(binary.status).toBe(200);
    expect(binary.type).toMatch(/application\/json/); // no binary output was asked for
    expect(binary.header.outputs).toEqual(json.body.outputs);
    expect(json.body.outputs[0].data[0]).toBeGreaterThan(json.body.outputs[0].data[1]); // red wins
  });

  it('answers outputs as raw bytes when asked, per request or per output, with their sizes in the header', async () => {
    const json = await postJson(`${color.url}/v2/models/${NAME}/infer`, { inputs: [imageInput({ data: pixels })] });
    const expected = json.body.outputs[0];
    for (const asked of [{ parameters: { binary_data_output: true } }, { outputs: [{ name: 'scores', parameters: { binary_data: true } }] }]) {
      const res = await postBinary(color, { inputs: [imageInput({ parameters: { binary_data_size: 48 } })], ...asked }, [f32(pixels)]);
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/octet-stream');
      expect(Number(res.headerLength)).toBeGreaterThan(0);
      const out = res.header.outputs![0];
      expect(out).toEqual({ name: 'scores', datatype: 'FP32', shape: expected.shape, parameters: { binary_data_size: 12 } });
      expect(res.binary.length).toBe(12);
      const values = Array.from(new Float32Array(res.binary.buffer.slice(res.binary.byteOffset, res.binary.byteOffset + 12)));
      values.forEach((v, i) => expect(v).toBeCloseTo(expected.data[i], 5));
    }
    // binary_data_output with a per-output false keeps that one in JSON.
    const mixed = await postBinary(color, { inputs: [imageInput({ data: pixels })], parameters: { binary_data_output: true }, outputs: [{ name: 'scores', parameters: { binary_data: false } }] }, []);
    expect(mixed.status).toBe(200);
    expect(mixed.header.outputs).toEqual(json.body.outputs);
  });

  it('reads INT64 inputs as 8-byte little-endian integers', async () => {
    const json = await postJson(`${ids.url}/v2/models/${NAME}/infer`, { inputs: [{ name: 'ids', shape: [1, 4], datatype: 'INT64', data: [3, 1, 4, 1] }] });
    const binary = await postBinary(ids, { inputs: [{ name: 'ids', shape: [1, 4], datatype: 'INT64', parameters: { binary_data_size: 32 } }] }, [i64([3, 1, 4, 1])]);
    expect(json.status).toBe(200);
    expect(binary.status).toBe(200);
    expect(binary.header.outputs).toEqual(json.body.outputs);
  });

  it('carries FP16 tensors: JSON numbers rounded to half precision, or the half bits as binary, in and out', async () => {
    const values = [0.1, 1, -2, 65504];
    const halves = [0.0999755859375, 1, -2, 65504]; // what a half holds of each
    const json = await postJson(`${half.url}/v2/models/${NAME}/infer`, { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP16', data: values }] });
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    expect(json.body.outputs).toEqual([
      { name: 'same', datatype: 'FP16', shape: [1, 4], data: halves },
      { name: 'wide', datatype: 'FP32', shape: [1, 4], data: halves },
    ]);
    // The bits of 0.0999755859375, 1, -2 and 65504 as binary, three requests at once (batched), raw bytes back.
    const bits = (row: number) => Buffer.from(new Uint16Array([0x2e66, 0x3c00, 0xc000, 0x7bff].map((b, i) => (i === 1 ? 0x3c00 + row : b))).buffer);
    const runs = async () => Number(/^rgpu_model_batch_size_count\{[^}]*\} (\S+)$/m.exec(await (await fetch(`${half.url}/metrics`)).text())?.[1]);
    const runsBefore = await runs();
    // A request still arriving makes the replica wait (up to the delay) for company instead of running each at once.
    const release = await holdIncomplete(half.url);
    const answers = await Promise.all([0, 1, 2].map((row) =>
      postBinary(half, { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP16', parameters: { binary_data_size: 8 } }], parameters: { binary_data_output: true } }, [bits(row)]),
    ));
    answers.forEach((res, row) => {
      expect(res.status).toBe(200);
      expect(res.header.outputs).toEqual([
        { name: 'same', datatype: 'FP16', shape: [1, 4], parameters: { binary_data_size: 8 } },
        { name: 'wide', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
      ]);
      expect(res.binary.subarray(0, 8).equals(bits(row))).toBe(true); // each request gets its own row back
      const wide = [0, 1, 2, 3].map((i) => res.binary.readFloatLE(8 + 4 * i));
      expect(wide).toEqual([0.0999755859375, 1 + row / 1024, -2, 65504]);
    });
    release();
    expect((await runs()) - runsBefore).toBeLessThan(3); // stacked: fewer runs than requests
  });

  it('refuses a body whose parts do not add up with a 400 that says what is wrong, and keeps serving', async () => {
    const input = (size: unknown, extra: Record<string, unknown> = {}) => ({ inputs: [imageInput({ parameters: { binary_data_size: size }, ...extra })] });
    const cases: [string, unknown, Buffer[], string | undefined, RegExp][] = [
      ['size not matching the shape', input(44), [f32(pixels).subarray(0, 44)], undefined, /12 elements of 4 byte\(s\) are 48 bytes, binary_data_size says 44/],
      ['bytes left over', input(48), [f32(pixels), Buffer.alloc(4)], undefined, /add up to 48 bytes but the body has 52/],
      ['part past the end', input(48), [f32(pixels).subarray(0, 40)], undefined, /runs past the end of the body/],
      ['a negative size', input(-4), [], undefined, /binary_data_size must be a non-negative integer/],
      ['data and a size', input(48, { data: pixels }), [f32(pixels)], undefined, /either data or binary_data_size/],
      ['a header length past the body', input(48), [f32(pixels)], '100000', /says 100000 bytes of JSON but the body has/],
      ['a header length that is no number', input(48), [f32(pixels)], '12abc', /must be a byte count/],
      ['a cut JSON header', input(48), [f32(pixels)], '10', /not valid JSON/],
    ];
    for (const [what, header, parts, length, message] of cases) {
      const res = await postBinary(color, header, parts, length);
      expect(res.status, what).toBe(400);
      expect(res.header.error, what).toMatch(message);
    }
    // binary_data_size in a plain JSON request (no header) is refused too.
    const plain = await postJson(`${color.url}/v2/models/${NAME}/infer`, input(48));
    expect(plain.status).toBe(400);
    expect(plain.body.error).toMatch(/needs the Inference-Header-Content-Length header/);
    const after = await postBinary(color, input(48), [f32(pixels)]);
    expect(after.status).toBe(200);
  });
});
