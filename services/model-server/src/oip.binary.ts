import ort from 'onnxruntime-node';
import { OipError } from './oip.errors.js';

/**
 * The binary tensor data extension of the Open Inference Protocol (KServe v2 / Triton, which tritonclient uses by
 * default): a request or response body is a JSON header of `Inference-Header-Content-Length` bytes followed by the
 * raw little-endian bytes of the tensors whose `parameters.binary_data_size` says how many bytes are theirs, in the
 * order the header lists them. BYTES elements are each a 4-byte little-endian length and that many bytes; BOOL is
 * one byte per element. A preprocessed FP32 image travels as its 4 bytes per value instead of ~10 characters of
 * JSON, and nothing is parsed per element.
 */
export const HEADER_LENGTH = 'inference-header-content-length';

/** The JSON header and the binary part of a body; `binary` is null for a plain JSON request. */
export function splitBody(body: Buffer, headerLength: string | string[] | undefined): { json: Buffer; binary: Buffer | null } {
  if (headerLength === undefined) return { json: body, binary: null };
  const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  if (!/^\d{1,10}$/.test(text)) throw new OipError(400, `the ${HEADER_LENGTH} header must be a byte count, got ${JSON.stringify(text.slice(0, 20))}`);
  const length = Number(text);
  if (length > body.length) {
    throw new OipError(400, `the ${HEADER_LENGTH} header says ${length} bytes of JSON but the body has ${body.length} bytes`);
  }
  return { json: body.subarray(0, length), binary: body.subarray(length) };
}

/** Fixed element sizes of the datatypes that travel as binary; BYTES is length-prefixed instead. */
const ELEMENT_BYTES: Partial<Record<ort.Tensor.Type, number>> = {
  float16: 2, float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

type Numeric = Exclude<ort.Tensor.DataType, string[]>;
const ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => Numeric> = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

/** Reads the binary parts of the inputs in order; `take` fails once the parts overrun what the body holds. */
export class BinaryReader {
  private offset = 0;

  constructor(private readonly binary: Buffer) {}

  /** The elements of input `name`, `size` bytes at the current offset, for `count` elements of `type`. */
  take(name: string, type: ort.Tensor.Type, size: unknown, count: number): ort.Tensor.DataType {
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw new OipError(400, `input "${name}": parameters.binary_data_size must be a non-negative integer`);
    }
    const bytes = size as number;
    if (this.offset + bytes > this.binary.length) {
      throw new OipError(400, `input "${name}": binary_data_size ${bytes} runs past the end of the body (${this.binary.length - this.offset} bytes left)`);
    }
    const part = this.binary.subarray(this.offset, this.offset + bytes);
    this.offset += bytes;
    if (type === 'string') return strings(name, part, count);
    const width = ELEMENT_BYTES[type]!;
    if (bytes !== count * width) {
      throw new OipError(400, `input "${name}": ${count} elements of ${width} byte(s) are ${count * width} bytes, binary_data_size says ${bytes}`);
    }
    // A view of the body when it is aligned for the type (the replica reads binary bodies so that it is), else a copy.
    let data: Numeric;
    if (part.byteOffset % width === 0) data = new ARRAYS[type](part.buffer as ArrayBuffer, part.byteOffset, count);
    else {
      const copy = new ArrayBuffer(bytes);
      new Uint8Array(copy).set(part);
      data = new ARRAYS[type](copy, 0, count);
    }
    if (type === 'bool') for (let i = 0; i < count; i++) if ((data as Uint8Array)[i] > 1) (data as Uint8Array)[i] = 1;
    return data;
  }

  /** Every byte of the binary part must belong to some input. */
  finish(): void {
    if (this.offset !== this.binary.length) {
      throw new OipError(400, `the inputs' binary_data_size add up to ${this.offset} bytes but the body has ${this.binary.length} after the JSON header`);
    }
  }
}

function strings(name: string, part: Buffer, count: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < part.length) {
    if (at + 4 > part.length) throw new OipError(400, `input "${name}": a BYTES element's 4-byte length is cut short`);
    const length = part.readUInt32LE(at);
    if (at + 4 + length > part.length) throw new OipError(400, `input "${name}": a BYTES element of ${length} bytes runs past its binary data`);
    out.push(part.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (out.length !== count) throw new OipError(400, `input "${name}": the shape holds ${count} elements but the binary data has ${out.length}`);
  return out;
}

/** The raw bytes of a result tensor as the extension lays them out. */
export function tensorBytes(tensor: ort.Tensor): Buffer {
  if (tensor.type === 'string') {
    const parts = (tensor.data as string[]).flatMap((s) => {
      const text = Buffer.from(s, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return [length, text];
    });
    return Buffer.concat(parts);
  }
  const data = tensor.data as Numeric;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
