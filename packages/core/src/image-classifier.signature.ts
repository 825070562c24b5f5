import type { FieldError, Localized } from './errors.js';
import type { Preprocessing, TensorSpec } from './model.js';

/**
 * "Can our predict serve this ONNX model?" — decided once, here, for the gateway at upload (a 422 naming each
 * problem) and for the model server at load (exit 78 naming the variable) and at predict (the plan it feeds).
 *
 * What the seed's predict can serve (DESIGN §3): one float32 input [N,3,H,W] with N = 1 or dynamic (one image is
 * fed per request), and a first output of float scores with at most one dimension per image larger than 1 (the
 * classes), whose count equals the labels. A dynamic height or width needs `preprocessing.size`; a fixed one must
 * not be contradicted by it. Bounds keep normalization finite (README "Limits").
 */
export const IMAGE_LIMITS = {
  /** |mean| ≤ 1000: images are scaled to [0,1] first, so anything larger is a units mistake. */
  meanAbsMax: 1000,
  /** std in [1e-6, 1000]: normalized values stay far inside float32's range. */
  stdMin: 1e-6,
  stdMax: 1000,
  /** size sides 1 … 4096 pixels. */
  sideMin: 1,
  sideMax: 4096,
} as const;

export interface ImageClassifierPlan {
  inputName: string;
  layout: 'NCHW';
  /** The tensor fed for one image: [1, 3, height, width]. */
  inputDims: [1, 3, number, number];
  height: number;
  width: number;
  /** `fixed`: the model's batch dimension is 1; `dynamic`: symbolic, fed 1. */
  batch: 'fixed' | 'dynamic';
  outputName: string;
  /** The number of class scores per image, which is the number of labels. */
  classCount: number;
  /** False when the output's class dimension is dynamic: only running the model can confirm `classCount`. */
  classCountDeclared: boolean;
  /** False when height or width came from `preprocessing.size` rather than from the model itself. */
  sizeDeclared: boolean;
  mean: [number, number, number];
  std: [number, number, number];
}

export type SignatureCheck = { ok: true; plan: ImageClassifierPlan } | { ok: false; problems: FieldError[] };

export interface SignatureOptions {
  /** The request field that names the artifact: `file` for an upload, `artifact_uri` for a URI. */
  artifactField?: string;
}

const text = (zh: string, en: string): Localized => ({ zh, en });
const shapeText = (shape: readonly number[]) => `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
const EXPECTED = text('需要一个 float32 输入 [N,3,H,W]（N 为 1 或动态）', 'expected one float32 input [N,3,H,W] with N = 1 or dynamic');

interface InputShape {
  name: string;
  batch: 'fixed' | 'dynamic';
  height: number; // -1: dynamic
  width: number;
}

function checkInput(inputs: readonly TensorSpec[], field: string, problems: FieldError[]): InputShape | null {
  const refuse = (zh: string, en: string): null => {
    problems.push({ field, message: text(`模型不是图像分类模型: ${zh}；${EXPECTED.zh}`, `The model is not an image classifier: ${en}; ${EXPECTED.en}`) });
    return null;
  };
  if (inputs.length !== 1) return refuse(`它有 ${inputs.length} 个输入`, `it has ${inputs.length} inputs`);
  const [input] = inputs;
  if (input.datatype !== 'FP32') return refuse(`输入 "${input.name}" 的类型是 ${input.datatype}`, `input "${input.name}" is ${input.datatype}`);
  const shape = input.shape;
  if (shape.length !== 4) return refuse(`输入 "${input.name}" 的形状是 ${shapeText(shape)}`, `input "${input.name}" has shape ${shapeText(shape)}`);
  const [batch, channels, height, width] = shape;
  if (batch !== 1 && batch >= 0) {
    return refuse(
      `输入 "${input.name}" 的形状 ${shapeText(shape)} 要求每次 ${batch} 张图像，而 predict 每次发送一张`,
      `input "${input.name}" has shape ${shapeText(shape)}, a fixed batch of ${batch} images, but predict sends one image at a time (export it with batch 1 or a dynamic batch)`,
    );
  }
  if (channels !== 3 && channels >= 0) {
    return refuse(`输入 "${input.name}" 有 ${channels} 个通道，而不是 3 (RGB)`, `input "${input.name}" has ${channels} channels, not 3 (RGB)`);
  }
  if (height === 0 || width === 0) return refuse(`输入 "${input.name}" 的形状是 ${shapeText(shape)}`, `input "${input.name}" has shape ${shapeText(shape)}`);
  return { name: input.name, batch: batch === 1 ? 'fixed' : 'dynamic', height, width };
}

/** The first output's per-image class count (null: dynamic), or null after reporting why it is no class-score vector. */
function checkOutput(
  outputs: readonly TensorSpec[],
  inputBatch: number | undefined,
  field: string,
  problems: FieldError[],
): { name: string; classes: number | null } | null {
  const refuse = (zh: string, en: string): null => {
    problems.push({
      field,
      message: text(
        `模型不是图像分类模型: ${zh}；第一个输出须为每张图像一个类别分数向量，如 [N,类别数]`,
        `The model is not an image classifier: ${en}; its first output must be one vector of class scores per image, such as [N,classes]`,
      ),
    });
    return null;
  };
  const scores = outputs[0];
  if (!scores) return refuse('它没有输出', 'it has no output');
  if (scores.datatype !== 'FP32' && scores.datatype !== 'FP64') {
    return refuse(`输出 "${scores.name}" 的类型是 ${scores.datatype}`, `output "${scores.name}" is ${scores.datatype}, not float scores`);
  }
  const shape = scores.shape;
  if (shape.length === 0) return refuse(`输出 "${scores.name}" 是标量`, `output "${scores.name}" is a scalar`);
  // [C] has no batch dimension; in [N, ...] the first one is the batch, which must hold the one image fed.
  const perImage = shape.length === 1 ? shape : shape.slice(1);
  // Reported once, on the input, when the input already demands that batch.
  if (shape.length > 1 && shape[0] !== 1 && shape[0] >= 0 && shape[0] !== inputBatch) {
    return refuse(`输出 "${scores.name}" 的形状 ${shapeText(shape)} 的批大小是 ${shape[0]}`, `output "${scores.name}" has shape ${shapeText(shape)}, a batch of ${shape[0]}`);
  }
  const varying = perImage.filter((d) => d !== 1);
  if (varying.length > 1) {
    // A score map ([N,1,H,W]: a detector, a segmenter) or a grid: not one score per class.
    return refuse(
      `输出 "${scores.name}" 的形状 ${shapeText(shape)} 是每张图像一个多维分数图，而不是一个类别分数向量`,
      `output "${scores.name}" has shape ${shapeText(shape)}, a map of scores per image rather than one vector of class scores`,
    );
  }
  const classes = varying.length === 0 ? 1 : varying[0];
  return { name: scores.name, classes: classes < 0 ? null : classes };
}

function checkValues(preprocessing: Preprocessing, problems: FieldError[]): void {
  const { meanAbsMax, stdMin, stdMax } = IMAGE_LIMITS;
  preprocessing.mean.forEach((m, i) => {
    if (!(Number.isFinite(m) && Math.abs(m) <= meanAbsMax)) {
      problems.push({
        field: `preprocessing.mean[${i}]`,
        message: text(`必须是 ${-meanAbsMax} 到 ${meanAbsMax} 之间的有限数（图像先缩放到 [0,1]）`, `must be a finite number from ${-meanAbsMax} to ${meanAbsMax} (images are scaled to [0,1] first)`),
      });
    }
  });
  preprocessing.std.forEach((s, i) => {
    if (!(Number.isFinite(s) && s >= stdMin && s <= stdMax)) {
      problems.push({
        field: `preprocessing.std[${i}]`,
        message: text(`必须是 ${stdMin} 到 ${stdMax} 之间的有限数`, `must be a finite number from ${stdMin} to ${stdMax}`),
      });
    }
  });
  preprocessing.size?.forEach((side, i) => {
    if (!(Number.isInteger(side) && side >= IMAGE_LIMITS.sideMin && side <= IMAGE_LIMITS.sideMax)) {
      problems.push({
        field: `preprocessing.size[${i}]`,
        message: text(`必须是 ${IMAGE_LIMITS.sideMin} 到 ${IMAGE_LIMITS.sideMax} 之间的整数（像素）`, `must be an integer number of pixels from ${IMAGE_LIMITS.sideMin} to ${IMAGE_LIMITS.sideMax}`),
      });
    }
  });
}

/** Height and width fed to the model: its own when fixed, `preprocessing.size` when dynamic (then required). */
function checkSize(input: InputShape, size: [number, number] | undefined, problems: FieldError[]): [number, number] | null {
  const model = `[${input.height < 0 ? 'H' : input.height},${input.width < 0 ? 'W' : input.width}]`;
  const dynamic = input.height < 0 || input.width < 0;
  if (size === undefined) {
    if (!dynamic) return [input.height, input.width];
    problems.push({
      field: 'preprocessing.size',
      message: text(
        `为必填项：模型输入 "${input.name}" 的高度或宽度是动态的 ${model}，请给出图像缩放到的 [高度, 宽度]`,
        `is required: the height or width of the model's input "${input.name}" is dynamic ${model}; give the [height, width] images are resized to`,
      ),
    });
    return null;
  }
  const contradicts = (input.height >= 0 && size[0] !== input.height) || (input.width >= 0 && size[1] !== input.width);
  if (contradicts) {
    problems.push({
      field: 'preprocessing.size',
      message: text(
        `[${size.join(',')}] 与模型输入 "${input.name}" 的固定尺寸 ${model} 不一致`,
        `[${size.join(',')}] contradicts the fixed size ${model} of the model's input "${input.name}"`,
      ),
    });
    return null;
  }
  return size;
}

/**
 * The plan predict follows for this model, or every reason it cannot serve it (as field errors: the artifact's
 * field, `labels`, `preprocessing.*`). Pure: the signature is what onnxruntime reports (dynamic dims are -1).
 */
export function imageClassifierSignature(
  signature: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] },
  labels: readonly string[],
  preprocessing: Preprocessing | null,
  options: SignatureOptions = {},
): SignatureCheck {
  const field = options.artifactField ?? 'file';
  const problems: FieldError[] = [];
  const input = checkInput(signature.inputs, field, problems);
  const output = checkOutput(signature.outputs, signature.inputs.length === 1 ? signature.inputs[0].shape[0] : undefined, field, problems);
  if (preprocessing) checkValues(preprocessing, problems);
  if (output && output.classes !== null && output.classes !== labels.length) {
    problems.push({
      field: 'labels',
      message: text(
        `labels 数量 (${labels.length}) 与模型输出 "${output.name}" 的类别数 (${output.classes}) 不一致`,
        `labels has ${labels.length} entries but the model's output "${output.name}" has ${output.classes} classes`,
      ),
    });
  }
  const sizeValid = !problems.some((p) => p.field.startsWith('preprocessing.size'));
  const size = input && sizeValid ? checkSize(input, preprocessing?.size, problems) : null;
  if (problems.length || !input || !output || !size) return { ok: false, problems };
  const [height, width] = size;
  return {
    ok: true,
    plan: {
      inputName: input.name,
      layout: 'NCHW',
      inputDims: [1, 3, height, width],
      height,
      width,
      batch: input.batch,
      outputName: output.name,
      classCount: labels.length,
      classCountDeclared: output.classes !== null,
      sizeDeclared: input.height >= 0 && input.width >= 0,
      mean: preprocessing?.mean ?? [0, 0, 0],
      std: preprocessing?.std ?? [1, 1, 1],
    },
  };
}
