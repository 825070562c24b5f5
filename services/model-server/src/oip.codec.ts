import ort from 'onnxruntime-node';
import type { TensorSpec } from '@remotegpu/core';
import { BinaryReader } from './oip.binary.js';
import { OipError } from './oip.errors.js';
import { fromHalf, toHalf } from './half.float.js';

/**
 * Open Inference Protocol v2 JSON tensors ⇄ onnxruntime tensors. Requests are checked against the model's
 * signature here, so a wrong name, datatype, shape or element count is a 400 that says what is wrong, instead
 * of an onnxruntime message about some node deep in the graph. Tensors may also travel as raw bytes (the binary
 * data extension, `oip.binary.ts`).
 */
export { OipError };

export interface InferRequest {
  id?: string;
  feeds: Record<string, ort.Tensor>;
  /** Output names to return, in the order asked for; all of the model's when the request names none. */
  outputNames: string[];
  /** Outputs to answer as raw bytes (`parameters.binary_data` of the output, or `binary_data_output` of the request). */
  binaryOutputs: Set<string>;
}

export interface OipTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

type ElementKind = 'number' | 'bigint' | 'bool' | 'string' | 'half';

/** OIP datatype → onnxruntime type and how JSON values become elements (FP16: numbers rounded to half precision). */
const DATATYPES: Record<string, { ort: ort.Tensor.Type; kind: ElementKind; integer?: [number, number] }> = {
  FP16: { ort: 'float16', kind: 'half' },
  FP32: { ort: 'float32', kind: 'number' },
  FP64: { ort: 'float64', kind: 'number' },
  INT8: { ort: 'int8', kind: 'number', integer: [-128, 127] },
  INT16: { ort: 'int16', kind: 'number', integer: [-32768, 32767] },
  INT32: { ort: 'int32', kind: 'number', integer: [-(2 ** 31), 2 ** 31 - 1] },
  INT64: { ort: 'int64', kind: 'bigint', integer: [-(2 ** 63), 2 ** 63] },
  UINT8: { ort: 'uint8', kind: 'number', integer: [0, 255] },
  UINT16: { ort: 'uint16', kind: 'number', integer: [0, 65535] },
  UINT32: { ort: 'uint32', kind: 'number', integer: [0, 2 ** 32 - 1] },
  UINT64: { ort: 'uint64', kind: 'bigint', integer: [0, 2 ** 64] },
  BOOL: { ort: 'bool', kind: 'bool' },
  BYTES: { ort: 'string', kind: 'string' },
};

const NUMERIC_ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested row-major data (`[[1,2],[3,4]]`) and flat data (`[1,2,3,4]`) are the same tensor in OIP. */
function flatten(data: unknown[]): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (items: unknown[]) => {
    for (const item of items) {
      if (Array.isArray(item)) walk(item);
      else out.push(item);
    }
  };
  walk(data);
  return out;
}

function elementsOf(values: unknown[], datatype: string, name: string): ort.Tensor.DataType {
  const spec = DATATYPES[datatype];
  const bad = (i: number, expected: string) =>
    new OipError(400, `input "${name}": element ${i} is ${JSON.stringify(values[i])?.slice(0, 40)}, expected ${expected}`);
  switch (spec.kind) {
    case 'string':
      values.forEach((v, i) => {
        if (typeof v !== 'string') throw bad(i, 'a string');
      });
      return values as string[];
    case 'bool':
      return Uint8Array.from(values, (v, i) => {
        if (typeof v !== 'boolean') throw bad(i, 'true or false');
        return v ? 1 : 0;
      });
    case 'bigint': {
      const [min, max] = spec.integer!;
      const out = spec.ort === 'int64' ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
      values.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v >= max) throw bad(i, `an integer for ${datatype}`);
        out[i] = BigInt(v);
      });
      return out;
    }
    case 'half':
      return Uint16Array.from(values, (v, i) => {
        if (typeof v !== 'number') throw bad(i, 'a number');
        return toHalf(v);
      });
    case 'number': {
      const out = new NUMERIC_ARRAYS[spec.ort as keyof typeof NUMERIC_ARRAYS](values.length);
      const range = spec.integer;
      values.forEach((v, i) => {
        if (typeof v !== 'number' || (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))) {
          throw bad(i, range ? `an integer for ${datatype}` : 'a number');
        }
        out[i] = v;
      });
      return out;
    }
  }
}

function parseInput(raw: unknown, index: number, specs: Map<string, TensorSpec>, binary: BinaryReader | null): [string, ort.Tensor] {
  if (!isObject(raw)) throw new OipError(400, `inputs[${index}] must be an object {name, shape, datatype, data}`);
  const { name, shape, datatype, data, parameters } = raw;
  if (typeof name !== 'string') throw new OipError(400, `inputs[${index}].name must be a string`);
  const spec = specs.get(name);
  if (!spec) throw new OipError(400, `unexpected input "${name}"; the model's inputs are: ${[...specs.keys()].join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new OipError(400, `input "${name}": shape must be an array of non-negative integers`);
  }
  if (datatype !== spec.datatype) {
    throw new OipError(400, `input "${name}": datatype is ${JSON.stringify(datatype)}, the model expects ${spec.datatype}`);
  }
  if (!DATATYPES[spec.datatype]) throw new OipError(400, `input "${name}": datatype ${spec.datatype} is not supported`);
  const fits = shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]);
  if (!fits) {
    throw new OipError(400, `input "${name}": shape [${shape.join(',')}] does not match the model's [${spec.shape.join(',')}] (-1 is any size)`);
  }
  const expected = (shape as number[]).reduce((a, b) => a * b, 1);
  if (parameters !== undefined && !isObject(parameters)) throw new OipError(400, `input "${name}": parameters must be an object`);
  if (parameters?.binary_data_size !== undefined) {
    if (!binary) throw new OipError(400, `input "${name}": binary_data_size needs the Inference-Header-Content-Length header`);
    if (data !== undefined) throw new OipError(400, `input "${name}": give either data or binary_data_size, not both`);
    const type = DATATYPES[spec.datatype].ort;
    return [name, new ort.Tensor(type, binary.take(name, type, parameters.binary_data_size, expected), shape as number[])];
  }
  if (!Array.isArray(data)) throw new OipError(400, `input "${name}": data must be an array (flat or nested)`);
  const values = flatten(data);
  if (values.length !== expected) {
    throw new OipError(400, `input "${name}": shape [${shape.join(',')}] holds ${expected} elements but data has ${values.length}`);
  }
  return [name, new ort.Tensor(DATATYPES[spec.datatype].ort, elementsOf(values, spec.datatype, name), shape as number[])];
}

/** `binary`: what follows the JSON header when the request uses the binary data extension, else null. */
export function parseInferRequest(body: unknown, inputs: TensorSpec[], outputs: TensorSpec[], binary: Buffer | null = null): InferRequest {
  if (!isObject(body)) throw new OipError(400, 'the request body must be a JSON object {inputs:[...]}');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw new OipError(400, 'inputs must be a non-empty array of tensors');
  if (body.id !== undefined && typeof body.id !== 'string') throw new OipError(400, 'id must be a string');
  const specs = new Map(inputs.map((s) => [s.name, s]));
  const feeds: Record<string, ort.Tensor> = {};
  const reader = binary ? new BinaryReader(binary) : null;
  body.inputs.forEach((raw, i) => {
    const [name, tensor] = parseInput(raw, i, specs, reader);
    if (feeds[name]) throw new OipError(400, `input "${name}" is given twice`);
    feeds[name] = tensor;
  });
  reader?.finish();
  const missing = inputs.filter((s) => !feeds[s.name]).map((s) => s.name);
  if (missing.length) throw new OipError(400, `missing input(s): ${missing.join(', ')}`);

  if (body.parameters !== undefined && !isObject(body.parameters)) throw new OipError(400, 'parameters must be an object');
  const allBinary = body.parameters?.binary_data_output;
  if (allBinary !== undefined && typeof allBinary !== 'boolean') throw new OipError(400, 'parameters.binary_data_output must be true or false');
  let outputNames = outputs.map((o) => o.name);
  const binaryOutputs = new Set<string>(allBinary ? outputNames : []);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs) || !body.outputs.every((o) => isObject(o) && typeof o.name === 'string' && (o.parameters === undefined || isObject(o.parameters)))) {
      throw new OipError(400, 'outputs must be an array of {name, parameters?}');
    }
    const requested = body.outputs as { name: string; parameters?: Record<string, unknown> }[];
    const unknown = requested.map((o) => o.name).filter((n) => !outputNames.includes(n));
    if (unknown.length) throw new OipError(400, `unknown output(s): ${unknown.join(', ')}; the model's outputs are: ${outputNames.join(', ')}`);
    if (requested.length) outputNames = [...new Set(requested.map((o) => o.name))];
    for (const o of requested) {
      const flag = o.parameters?.binary_data;
      if (flag !== undefined && typeof flag !== 'boolean') throw new OipError(400, `output "${o.name}": parameters.binary_data must be true or false`);
      if (flag === true) binaryOutputs.add(o.name);
      if (flag === false) binaryOutputs.delete(o.name);
    }
  }
  return { id: body.id as string | undefined, feeds, outputNames, binaryOutputs };
}

const OIP_OF_ORT: Partial<Record<ort.Tensor.Type, string>> = Object.fromEntries(Object.entries(DATATYPES).map(([oip, d]) => [d.ort, oip]));

export function oipDatatype(tensor: ort.Tensor): string {
  return OIP_OF_ORT[tensor.type] ?? tensor.type.toUpperCase();
}

/** A result tensor as OIP JSON; 64-bit integers become JSON numbers (exact up to 2^53, as JSON itself allows). */
export function toOipTensor(name: string, tensor: ort.Tensor): OipTensor {
  const data = tensor.data;
  let values: unknown[];
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Array.from(data, Number);
  else if (tensor.type === 'bool') values = Array.from(data as Uint8Array, Boolean);
  else if (tensor.type === 'float16') values = Array.from(data as Uint16Array, fromHalf);
  else values = Array.from(data as ArrayLike<unknown>);
  return { name, datatype: oipDatatype(tensor), shape: [...tensor.dims], data: values };
}
