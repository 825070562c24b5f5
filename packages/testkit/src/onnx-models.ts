import onnxProto from 'onnx-proto';
import type { onnx as proto } from 'onnx-proto';

// onnx-proto is a CommonJS bundle that assigns `module.exports = $root`; Node's ESM loader only exposes it
// as the default export, so the `onnx` namespace is taken from there.
const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

/** Class order of {@link colorClassifierOnnx}'s `scores` output. */
export const COLOR_LABELS = ['red', 'green', 'blue'] as const;

const OPSET = 13;
const IR_VERSION = 8;

type Dim = number | string;

function valueInfo(name: string, elemType: number, shape: Dim[]): proto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floatInitializer(name: string, dims: number[], values: number[]): proto.ITensorProto {
  return { name, dims, dataType: DataType.FLOAT, floatData: values };
}

function encodeModel(graph: proto.IGraphProto): Buffer {
  const model: proto.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: '@remotegpu/testkit',
    graph,
  };
  return Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
}

/**
 * 10·(I − ½·1): the channel that dominates the image scores +5 per unit of mean intensity, the others −5,
 * so a mostly-red image gives logits of roughly [5, −5, −5] and a clear winner even after softmax.
 */
function colorWeights(): number[] {
  const w: number[] = [];
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) w.push(10 * ((row === col ? 1 : 0) - 0.5));
  return w;
}

interface GraphShape {
  batch: Dim;
  height: Dim;
  width: Dim;
  logits: boolean;
  /** The declared shape of `scores` (what onnxruntime reports); the graph always computes [batch, 3]. */
  scores: Dim[];
}

function colorClassifierGraph({ batch, height, width, logits, scores }: GraphShape): proto.IGraphProto {
  // Compress keeps a data-dependent number of elements, which hides the class count from shape inference (a
  // Reshape to a computed shape does not: onnxruntime propagates it), so the declared symbolic dimension stays.
  const hideClasses = scores.some((d) => typeof d === 'string');
  const last = hideClasses ? 'computed' : 'scores';
  const nodes: proto.INodeProto[] = [
    { opType: 'GlobalAveragePool', input: ['image'], output: ['pooled'], name: 'pool' },
    { opType: 'Flatten', input: ['pooled'], output: ['features'], name: 'flatten', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    { opType: 'Gemm', input: ['features', 'W', 'B'], output: [logits ? last : 'logits'], name: 'classify' },
  ];
  if (!logits) {
    nodes.push({ opType: 'Softmax', input: ['logits'], output: [last], name: 'softmax', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] });
  }
  if (hideClasses) {
    nodes.push({ opType: 'Compress', input: ['computed', 'keep'], output: ['scores'], name: 'keep_all', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
  }
  const initializer = [floatInitializer('W', [3, 3], colorWeights()), floatInitializer('B', [3], [0, 0, 0])];
  if (hideClasses) initializer.push({ name: 'keep', dims: [3], dataType: DataType.BOOL, int32Data: [1, 1, 1] });
  return {
    name: 'color_classifier',
    node: nodes,
    initializer,
    input: [valueInfo('image', DataType.FLOAT, [batch, 3, height, width])],
    output: [valueInfo('scores', DataType.FLOAT, scores)],
  };
}

export interface ColorClassifierOptions {
  height?: number;
  width?: number;
  /** true (default): `scores` are raw logits; false: a Softmax makes them probabilities. */
  logits?: boolean;
  /** The input's batch dimension: 1 (default), another fixed count, or a symbolic name such as `"N"`. */
  batch?: Dim;
  /** Declares the class dimension of `scores` symbolic (`[batch, "classes"]`): only a run shows there are 3. */
  dynamicClasses?: boolean;
}

/**
 * A three-class image classifier (`image` float32 [1,3,H,W] → `scores` float32 [1,3]) whose classes are
 * {@link COLOR_LABELS}: it averages each channel and lets the strongest one win.
 */
export function colorClassifierOnnx(opts: ColorClassifierOptions = {}): Buffer {
  const batch = opts.batch ?? 1;
  return encodeModel(
    colorClassifierGraph({
      batch,
      height: opts.height ?? 32,
      width: opts.width ?? 32,
      logits: opts.logits ?? true,
      scores: [batch, opts.dynamicClasses ? 'classes' : 3],
    }),
  );
}

/** The same colour classifier with symbolic height and width: input shape [1,3,-1,-1] as onnxruntime sees it. */
export function dynamicInputOnnx(opts: { logits?: boolean } = {}): Buffer {
  return encodeModel(colorClassifierGraph({ batch: 1, height: 'height', width: 'width', logits: opts.logits ?? true, scores: [1, 3] }));
}

/**
 * A text-detector-like model: `image` [N,3,H,W] (all dynamic) → `score_map` [N,1,H,W], the mean of the channels
 * per pixel. It loads and runs, but it outputs a map of scores per image, not one score per class.
 */
export function scoreMapOnnx(): Buffer {
  return encodeModel({
    name: 'score_map',
    node: [
      {
        opType: 'ReduceMean',
        input: ['image'],
        output: ['score_map'],
        name: 'mean',
        attribute: [
          { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
          { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ],
      },
    ],
    input: [valueInfo('image', DataType.FLOAT, ['N', 3, 'H', 'W'])],
    output: [valueInfo('score_map', DataType.FLOAT, ['N', 1, 'H', 'W'])],
  });
}

/**
 * A classifier of the right shape (`image` [1,3,8,8] → `scores` [1,3]) whose scores are NaN: 0/0, computed from
 * the image so no optimizer folds it away. For the "never a confidence that is not a number" checks.
 */
export function nanScoresOnnx(): Buffer {
  return encodeModel({
    name: 'nan_scores',
    node: [
      { opType: 'GlobalAveragePool', input: ['image'], output: ['pooled'], name: 'pool' },
      { opType: 'Flatten', input: ['pooled'], output: ['features'], name: 'flatten', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: 'Sub', input: ['features', 'features'], output: ['zeros'], name: 'zero' },
      { opType: 'Div', input: ['zeros', 'zeros'], output: ['scores'], name: 'nan' },
    ],
    input: [valueInfo('image', DataType.FLOAT, [1, 3, 8, 8])],
    output: [valueInfo('scores', DataType.FLOAT, [1, 3])],
  });
}

/**
 * A model that loads but is no image classifier: `ids` int64 [1,4] → `values` float32 [1,4] (a Cast).
 * For tests of signature checks and of data-type names other than FP32.
 */
export function nonImageOnnx(): Buffer {
  return encodeModel({
    name: 'cast_ids',
    node: [{ opType: 'Cast', input: ['ids'], output: ['values'], name: 'cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }] }],
    input: [valueInfo('ids', DataType.INT64, [1, 4])],
    output: [valueInfo('values', DataType.FLOAT, [1, 4])],
  });
}

/**
 * A half-precision model (GPU exports often are): `x` float16 [N,4] → `same` float16 (Identity) and `wide` float32
 * (Cast), so a test sees FP16 going in and coming out, and the float32 values the half bits stand for.
 */
export function halfPrecisionOnnx(): Buffer {
  return encodeModel({
    name: 'half_precision',
    node: [
      { opType: 'Identity', input: ['x'], output: ['same'], name: 'same' },
      { opType: 'Cast', input: ['x'], output: ['wide'], name: 'wide', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }] },
    ],
    input: [valueInfo('x', DataType.FLOAT16, ['N', 4])],
    output: [valueInfo('same', DataType.FLOAT16, ['N', 4]), valueInfo('wide', DataType.FLOAT, ['N', 4])],
  });
}

/** Deterministic bytes that are not an ONNX model (a fixed-seed LCG, so failures reproduce). */
export function brokenOnnx(size = 512): Buffer {
  const bytes = Buffer.alloc(size);
  let state = 0x2545f491;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  // A readable prefix makes the intent obvious in a hex dump and keeps it from being a valid protobuf by chance.
  bytes.write('not an onnx model\n', 0, 'utf8');
  return bytes;
}
