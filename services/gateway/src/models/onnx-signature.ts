import { OIP_DATATYPES, type TensorSpec } from '@remotegpu/core';
import { InferenceSession } from 'onnxruntime-node';
import { artifactErrors, type ArtifactField } from './artifact-errors.js';

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}


/**
 * Loads the model with onnxruntime (CPU, no graph optimization: only the signature is wanted) and reports its
 * inputs and outputs. A file that does not load is a 422 on `field`.
 */
export async function readSignature(path: string, field: ArtifactField): Promise<ModelSignature> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(path, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'disabled',
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw artifactErrors.notLoadable(field, loadFailureReason(err, path), err);
  }
  try {
    return {
      inputs: session.inputMetadata.map((m) => toTensorSpec(m, field)),
      outputs: session.outputMetadata.map((m) => toTensorSpec(m, field)),
    };
  } finally {
    await session.release();
  }
}

function toTensorSpec(meta: InferenceSession.ValueMetadata, field: ArtifactField): TensorSpec {
  if (!meta.isTensor) throw artifactErrors.unsupportedTensor(field, meta.name, 'not a tensor (sequence or map)');
  const datatype = OIP_DATATYPES[meta.type];
  if (!datatype) throw artifactErrors.unsupportedTensor(field, meta.name, `element type ${meta.type}`);
  // Symbolic dimensions come back as their names ("batch"), unknown ones as negative numbers: both are -1.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

/**
 * onnxruntime's message minus what only helps its developers: the server-side path and the C++ source location.
 * What is left ("Protobuf parsing failed.", "ModelProto does not have a graph.") tells the user what is wrong.
 */
function loadFailureReason(err: unknown, path: string): string {
  let reason = err instanceof Error ? err.message : String(err);
  reason = reason.replace(/^Load model from .*? failed:/s, '');
  reason = reason.replace(/^\/\S+:\d+\s+/, ''); // /onnxruntime_src/.../model.cc:187
  reason = reason.replace(/^[\w:~<>]+\(.*?\)(?: const)?\s+/s, ''); // onnxruntime::Model::Model(...)
  reason = reason.split(path).join('model.onnx').trim();
  return reason.length > 300 ? `${reason.slice(0, 300)}…` : reason || 'unknown error';
}

/**
 * The labels must name the classes the model outputs: when the first output's last dimension is fixed it must
 * equal `labels.length` (422 on `labels`; a dynamic one is accepted, the model-server checks it per prediction).
 * Given `inputs` too, the model must also be an image classifier (see {@link checkImageClassifierInput}).
 */
export function checkLabels(outputs: TensorSpec[], labels: string[], inputs?: TensorSpec[]): void {
  if (inputs) checkImageClassifierInput(inputs);
  const scores = outputs[0];
  if (!scores) throw artifactErrors.notImageClassifier('it has no output');
  const classes = scores.shape[scores.shape.length - 1];
  if (classes !== undefined && classes >= 0 && classes !== labels.length) {
    throw artifactErrors.labelsMismatch(classes, labels.length);
  }
}

/**
 * The platform feeds one NCHW float32 image (DESIGN §3 predict), so the model must take exactly that: a single
 * FP32 input of rank 4 whose channel dimension is 3 or dynamic (422 on `file`). A second input could never be fed.
 */
export function checkImageClassifierInput(inputs: TensorSpec[]): void {
  if (inputs.length !== 1) throw artifactErrors.notImageClassifier(`it has ${inputs.length} inputs`);
  const [image] = inputs;
  if (image.datatype !== 'FP32') throw artifactErrors.notImageClassifier(`input "${image.name}" is ${image.datatype}`);
  if (image.shape.length !== 4) {
    throw artifactErrors.notImageClassifier(`input "${image.name}" has shape [${image.shape.join(',')}]`);
  }
  const channels = image.shape[1];
  if (channels !== 3 && channels !== -1) {
    throw artifactErrors.notImageClassifier(`input "${image.name}" has ${channels} channels`);
  }
}
