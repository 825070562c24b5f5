import sharp from 'sharp';
import { AppError, ErrorCode, type ImageClassifierPlan } from '@remotegpu/core';

const badImage = (zh: string, en: string) =>
  new AppError(ErrorCode.BadRequest, { zh, en }, { fields: [{ field: 'inputs.image', message: { zh, en } }] });

/** PNG, JPEG and WebP by their signatures: sharp would also open GIF, TIFF, SVG…, which the contract does not offer. */
function isSupportedFormat(bytes: Buffer): boolean {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return true;
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return true;
  return bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP';
}

/** libvips' reason ("pngload_buffer: end of stream") minus its generic prefix; short enough for a client. */
function decodeReason(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/^Input buffer (has corrupt header|contains)\s*:?\s*/i, '');
  const line = text.split('\n')[0].trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * Decodes an image and lays it out as the model's input (DESIGN §3): RGB, resized to the plan's height×width
 * (the model's own, or `preprocessing.size` when the model leaves it dynamic), NCHW float32, scaled to
 * [0,1] and normalized by mean/std. Normalization is a 256-entry table per channel, so the per-pixel work is one
 * lookup; input buffers are pooled because a request's tensor is garbage as soon as the session has run.
 */
export class ImagePreprocessor {
  private readonly height: number;
  private readonly width: number;
  private readonly table: Float32Array;
  private readonly pool: Float32Array[] = [];
  private readonly poolLimit: number;

  /** `plan` comes from core's imageClassifierSignature: its size and mean/std are already checked and bounded. */
  constructor(opts: { plan: Pick<ImageClassifierPlan, 'height' | 'width' | 'mean' | 'std'>; poolLimit?: number }) {
    this.height = opts.plan.height;
    this.width = opts.plan.width;
    this.poolLimit = opts.poolLimit ?? 16;
    const { mean, std } = opts.plan;
    this.table = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) this.table[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  }

  /** Throws a 400 AppError (field `inputs.image`) when the bytes are no PNG, JPEG or WebP that can be decoded. */
  async toTensorData(image: Buffer): Promise<Float32Array> {
    if (!isSupportedFormat(image)) {
      throw badImage('无法解码图像: 不是 PNG、JPEG 或 WebP 格式', 'The image could not be decoded: it is not a PNG, JPEG or WebP image');
    }
    const { height, width } = this;
    let pixels: Buffer;
    try {
      pixels = await sharp(image, { failOn: 'error' })
        .rotate() // honour EXIF orientation, as a camera's viewer would
        .resize(width, height, { fit: 'fill' })
        .removeAlpha()
        .toColorspace('srgb')
        .raw()
        .toBuffer();
    } catch (err) {
      const reason = decodeReason(err);
      throw badImage(`无法解码图像（须为 PNG、JPEG 或 WebP）: ${reason}`, `The image could not be decoded as PNG, JPEG or WebP: ${reason}`);
    }
    const plane = height * width;
    if (pixels.length !== plane * 3) {
      throw badImage('无法将图像转换为 RGB', `The image could not be converted to RGB (${pixels.length} bytes for ${width}x${height})`);
    }
    const out = this.pool.pop() ?? new Float32Array(plane * 3);
    const table = this.table;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      out[i] = table[pixels[p]];
      out[plane + i] = table[256 + pixels[p + 1]];
      out[2 * plane + i] = table[512 + pixels[p + 2]];
    }
    return out;
  }

  /** Hands a buffer from {@link toTensorData} back once the session no longer reads it. */
  release(data: Float32Array): void {
    if (this.pool.length < this.poolLimit) this.pool.push(data);
  }
}

export function configureSharp(): void {
  // Every request brings a new image, so libvips' operation cache only holds memory.
  sharp.cache(false);
}
