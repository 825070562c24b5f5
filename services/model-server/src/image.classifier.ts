import ort from 'onnxruntime-node';
import { AppError, ErrorCode, errors, imageClassifierSignature, type FieldError, type ImageClassifierPlan, type Preprocessing } from '@remotegpu/core';
import { ImagePreprocessor } from './image.preprocess.js';
import type { LoadedModel } from './model.session.js';
import { toProbabilities, topK, type Prediction } from './scores.postprocess.js';

export const DEFAULT_TOP_K = 5;

/** The artifact's field in core's answer; the model server names its environment variables instead. */
const ARTIFACT_FIELD = 'model';

/** `labels` → RGPU_LABELS, `preprocessing.std[0]` → RGPU_PREPROCESSING (std[0]). */
function variableOf(field: string): string {
  if (field === 'labels') return 'RGPU_LABELS';
  if (field.startsWith('preprocessing')) return field === 'preprocessing' ? 'RGPU_PREPROCESSING' : `RGPU_PREPROCESSING (${field.slice('preprocessing.'.length)})`;
  return 'RGPU_MODEL_PATH';
}

export interface ClassifierSetup {
  classifier: ImageClassifier;
  /** Labels or preprocessing that can never serve this model: the replica exits 78 naming them. */
  configProblems: string[];
}

/**
 * Applies core's imageClassifierSignature — the rule the gateway applied at upload — to the loaded model. A model
 * that is no image classifier still serves OIP infer (predict answers 400 saying why); labels or preprocessing
 * that do not fit it are configuration errors.
 */
export function setUpClassifier(model: LoadedModel, labels: readonly string[], preprocessing: Preprocessing | null): ClassifierSetup {
  const check = imageClassifierSignature(model, labels, preprocessing, { artifactField: ARTIFACT_FIELD });
  if (check.ok) return { classifier: new ImageClassifier(model, labels, check.plan, null), configProblems: [] };
  const artifact = check.problems.filter((p) => p.field === ARTIFACT_FIELD);
  const config = check.problems.filter((p) => p.field !== ARTIFACT_FIELD);
  if (artifact.length) return { classifier: new ImageClassifier(model, labels, null, artifact), configProblems: [] };
  return { classifier: new ImageClassifier(model, labels, null, config), configProblems: config.map((p) => `${variableOf(p.field)}: ${p.message.en}`) };
}

/**
 * The seed's image classification on top of the loaded model, following the plan: image bytes → [1,3,H,W] tensor
 * → the planned output's scores → probabilities → the top k labels.
 */
export class ImageClassifier {
  private readonly preprocessor: ImagePreprocessor | null;
  private readonly dims: readonly number[];

  constructor(
    private readonly model: LoadedModel,
    private readonly labels: readonly string[],
    private readonly plan: ImageClassifierPlan | null,
    /** Why predict cannot serve this model (it still serves OIP infer); null when it can. */
    private readonly problems: FieldError[] | null,
  ) {
    this.preprocessor = plan ? new ImagePreprocessor({ plan }) : null;
    this.dims = plan ? plan.inputDims : [];
  }

  /** Why this model cannot classify images, in English for the log; null when it can. */
  get unsupportedReason(): string | null {
    return this.problems ? this.problems.map((p) => p.message.en).join('; ') : null;
  }

  async classify(image: Buffer, k: number = DEFAULT_TOP_K): Promise<Prediction[]> {
    const data = await this.prepare(image);
    const [scores] = await this.scoreBatch([data]);
    return this.finish(scores, k);
  }

  /** Decodes and lays out one image: a 400 for an image that cannot be decoded, before it joins any batch. */
  async prepare(image: Buffer): Promise<Float32Array> {
    const { preprocessor, plan } = this;
    if (!preprocessor || !plan) {
      const why = this.problems ?? [];
      throw new AppError(ErrorCode.BadRequest, {
        zh: `该模型不接受图像输入 (${why.map((p) => p.message.zh).join('；')})，请使用 /v2 推理接口`,
        en: `This model does not take an image (${this.unsupportedReason}); use the /v2 infer route`,
      });
    }
    return preprocessor.toTensorData(image);
  }

  /**
   * ONE session.run over the images' tensors stacked on the batch dimension ([n,3,H,W]); answers each image's
   * scores. The tensors go back to the pool. A failed run is a 500 naming the batch, for every image in it.
   */
  async scoreBatch(images: Float32Array[]): Promise<Float32Array[]> {
    const plan = this.plan!;
    const preprocessor = this.preprocessor!;
    const n = images.length;
    const [, c, h, w] = this.dims;
    let input: Float32Array;
    if (n === 1) input = images[0];
    else {
      input = new Float32Array(n * c * h * w);
      images.forEach((data, i) => input.set(data, i * data.length));
    }
    let values: Float32Array | Float64Array;
    try {
      const feeds = { [plan.inputName]: new ort.Tensor('float32', input, [n, c, h, w]) };
      // A batch's tensor was allocated for this run alone, so it is handed to the worker instead of copied.
      const results = await this.model.session.run(feeds, [plan.outputName], n > 1);
      values = results[plan.outputName].data as Float32Array | Float64Array;
    } catch (err) {
      throw n === 1 ? errors.internal(err) : modelErrors.batchFailed(n, err);
    } finally {
      for (const data of images) preprocessor.release(data);
    }
    if (values.length % n !== 0) throw modelErrors.labelsMismatch(values.length / n, plan.classCount);
    const per = values.length / n;
    // Copies: one image's scores must not keep the whole batch's output alive, nor share it with the others.
    return Array.from({ length: n }, (_, i) => Float32Array.from(values.subarray(i * per, (i + 1) * per)));
  }

  /** One image's scores → the top k labels; an image's own bad scores fail only that image. */
  finish(values: Float32Array, k: number = DEFAULT_TOP_K): Prediction[] {
    const plan = this.plan!;
    if (values.length !== plan.classCount) throw modelErrors.labelsMismatch(values.length, plan.classCount);
    // Never a confidence that is not a number: softmax of NaN or ±Infinity is NaN, which JSON turns into null.
    if (!values.every(Number.isFinite)) throw modelErrors.nonFiniteScores(plan.outputName);
    return topK(toProbabilities(values), this.labels, k);
  }

  /** `fixed` or `dynamic` from the plan; null when predict cannot serve this model. */
  get batchDimension(): 'fixed' | 'dynamic' | null {
    return this.plan ? this.plan.batch : null;
  }
}

/**
 * The model version cannot answer this request, and no retry or other replica would change that: 422, like a
 * version that does not load (DESIGN §3), never 5xx — the router would eject healthy replicas over a 5xx.
 */
export const modelErrors = {
  /** A batched run failed: every request in that batch gets this (500, the cause logged); no other batch is touched. */
  batchFailed(n: number, err: unknown): AppError {
    return new AppError(
      ErrorCode.Internal,
      {
        zh: `模型对 ${n} 张图像的批量推理失败，本批次中的请求均失败，请重试`,
        en: `The model run for a batch of ${n} images failed; every request in that batch failed, retry it`,
      },
      { cause: err },
    );
  },
  nonFiniteScores(output: string): AppError {
    return new AppError(
      ErrorCode.Unprocessable,
      {
        zh: `模型输出 "${output}" 含有非有限数值 (NaN 或 Infinity)，无法给出置信度；请检查模型及其版本的 preprocessing`,
        en: `The model produced scores that are not finite numbers (NaN or Infinity) in output "${output}", so no confidence can be given; check the model and its version's preprocessing`,
      },
      { reason: 'non_finite_scores' },
    );
  },
  /** Only reachable for a class dimension the model leaves dynamic (fixed ones are checked at upload and load). */
  labelsMismatch(scores: number, labels: number): AppError {
    return new AppError(
      ErrorCode.Unprocessable,
      {
        zh: `模型输出 ${scores} 个分数，但模型版本有 ${labels} 个标签`,
        en: `The model produced ${scores} scores but the model version has ${labels} labels`,
      },
      { reason: 'labels_mismatch' },
    );
  },
};
