import sharp from 'sharp';

export type Rgb = [number, number, number];
export type ImageColor = 'red' | 'green' | 'blue' | Rgb;
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface SolidImageOptions {
  format: ImageFormat;
  /** Pixels; default 32. */
  width?: number;
  /** Pixels; default 32. */
  height?: number;
}

const NAMED: Record<'red' | 'green' | 'blue', Rgb> = {
  red: [220, 30, 30],
  green: [30, 200, 40],
  blue: [30, 40, 220],
};

/**
 * An image of one colour with a little deterministic noise (±12 per channel, fixed seed), so encoders
 * do real work and a classifier sees a realistic, not a perfectly flat, input. Same arguments, same bytes.
 */
export async function solidImage(color: ImageColor, opts: SolidImageOptions): Promise<Buffer> {
  const width = opts.width ?? 32;
  const height = opts.height ?? 32;
  const base = typeof color === 'string' ? NAMED[color] : color;
  const pixels = Buffer.alloc(width * height * 3);
  let state = 0x9e3779b9;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const noise = (state >>> 24) % 25 - 12;
    pixels[i] = clampByte(base[i % 3] + noise);
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  switch (opts.format) {
    case 'png':
      return image.png().toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 90 }).toBuffer();
    default:
      return assertNever(opts.format);
  }
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

function assertNever(value: never): never {
  throw new Error(`unsupported image format: ${String(value)}`);
}
