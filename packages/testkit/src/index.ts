export { COLOR_LABELS, colorClassifierOnnx, dynamicInputOnnx, nonImageOnnx, brokenOnnx } from './onnx-models.js';
export type { ColorClassifierOptions } from './onnx-models.js';
export { solidImage } from './images.js';
export type { ImageColor, ImageFormat, Rgb, SolidImageOptions } from './images.js';
export { signToken, unsignedToken, expiredToken, tokenWithoutExpiry } from './tokens.js';
export type { TokenClaims, SignTokenOptions } from './tokens.js';
export { tempDir } from './temp.js';
export type { TempDir } from './temp.js';
