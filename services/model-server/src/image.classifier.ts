import ort from 'onnxruntime-node';
import { AppError, ErrorCode, errors, type Preprocessing } from '@remotegpu/core';
import { ImagePreprocessor, imageGeometryOf } from './image.preprocess.js';
import type { LoadedModel } from './model.session.js';
import { toProbabilities, topK, type Prediction } from './scores.postprocess.js';

export const DEFAULT_TOP_K = 5;

/**
 * The seed's image classification on top of the loaded model: image bytes → preprocessed tensor → the first
 * output's scores → probabilities → the top k labels.
 */
export class ImageClassifier {
  private readonly preprocessor: ImagePreprocessor | null;
  /** Why this model cannot classify images (it still serves OIP infer). */
  readonly unsupportedReason: string | null;
  private readonly outputName: string;
  private readonly dims: readonly number[];

  constructor(
    private readonly opts: { model: LoadedModel; labels: readonly string[]; preprocessing: Preprocessing | null },
  ) {
    const geometry = imageGeometryOf(opts.model.inputs);
    if ('reason' in geometry) {
      this.preprocessor = null;
      this.unsupportedReason = geometry.reason;
      this.dims = [];
    } else {
      this.preprocessor = new ImagePreprocessor({ geometry, preprocessing: opts.preprocessing });
      this.unsupportedReason = null;
      this.dims = [1, 3, geometry.height, geometry.width];
    }
    this.outputName = opts.model.outputs[0]?.name ?? '';
  }

  async classify(image: Buffer, k: number = DEFAULT_TOP_K): Promise<Prediction[]> {
    const preprocessor = this.preprocessor;
    if (!preprocessor) {
      throw new AppError(ErrorCode.BadRequest, {
        zh: `该模型不接受图像输入 (${this.unsupportedReason})，请使用 /v2 推理接口`,
        en: `This model does not take an image (${this.unsupportedReason}); use the /v2 infer route`,
      });
    }
    const data = await preprocessor.toTensorData(image);
    let scores: ort.Tensor;
    try {
      const feeds = { [preprocessor.geometry.inputName]: new ort.Tensor('float32', data, this.dims) };
      const results = await this.opts.model.session.run(feeds, [this.outputName]);
      scores = results[this.outputName];
    } catch (err) {
      throw errors.internal(err);
    } finally {
      preprocessor.release(data);
    }
    const labels = this.opts.labels;
    if (scores.size !== labels.length) {
      // The gateway checks fixed output sizes at upload; a dynamic one can only be checked here.
      throw new AppError(
        ErrorCode.Internal,
        {
          zh: `模型输出 ${scores.size} 个分数，但标签有 ${labels.length} 个`,
          en: `The model produced ${scores.size} scores but the version has ${labels.length} labels`,
        },
        { reason: 'labels_mismatch' },
      );
    }
    return topK(toProbabilities(scores.data as Float32Array), labels, k);
  }
}
