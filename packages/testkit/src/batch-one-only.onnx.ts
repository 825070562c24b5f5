import onnxProto from 'onnx-proto';

// onnx-proto is a CommonJS bundle: Node's ESM loader exposes its `onnx` namespace only on the default export.
const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const INT = onnx.AttributeProto.AttributeType.INT;

/**
 * A colour classifier (`image` float32 [N,3,H,W] → `scores` float32 [N,3], N declared dynamic) whose graph only
 * works for one image: its logits go through a Reshape to the fixed shape [1,3], which onnxruntime refuses for
 * any N > 1 ("The input tensor cannot be reshaped…"). A run of one image works and scores like testkit's
 * colorClassifierOnnx; a stacked run fails — the model a replica must survive with batching on.
 */
export function batchOfOneOnlyOnnx(height = 16, width = 16): Buffer {
  const weights: number[] = [];
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) weights.push(10 * ((row === col ? 1 : 0) - 0.5));
  const graph = {
    name: 'batch_of_one_only',
    node: [
      { opType: 'GlobalAveragePool', input: ['image'], output: ['pooled'], name: 'pool' },
      { opType: 'Flatten', input: ['pooled'], output: ['features'], name: 'flatten', attribute: [{ name: 'axis', type: INT, i: 1 }] },
      { opType: 'Gemm', input: ['features', 'W', 'B'], output: ['logits'], name: 'classify' },
      { opType: 'Reshape', input: ['logits', 'one_row'], output: ['scores'], name: 'one_row_only' },
    ],
    initializer: [
      { name: 'W', dims: [3, 3], dataType: DataType.FLOAT, floatData: weights },
      { name: 'B', dims: [3], dataType: DataType.FLOAT, floatData: [0, 0, 0] },
      { name: 'one_row', dims: [2], dataType: DataType.INT64, int64Data: [1, 3] },
    ],
    input: [tensorInfo('image', ['N', 3, height, width])],
    output: [tensorInfo('scores', ['N', 3])],
  };
  const model = { irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'model-server tests', graph };
  return Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
}

function tensorInfo(name: string, shape: (number | string)[]) {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}
