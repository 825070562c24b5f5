import { imageClassifierSignature, OIP_DATATYPES, type ImageClassifierPlan, type Preprocessing, type TensorSpec } from '@remotegpu/core';
import { InferenceSession, Tensor } from 'onnxruntime-node';
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
 * Upload's half of "can predict serve this model": core's {@link imageClassifierSignature} (the rule the model
 * server applies at load), then — when the model leaves its image size or class count open — one real run on a
 * zero image of the planned size, so a model that only fails at runtime for that size, or that outputs another
 * number of scores than there are labels, is refused now with a 422 rather than failing every predict later.
 */
export async function checkServable(
  artifact: { artifactPath: string; inputs: TensorSpec[]; outputs: TensorSpec[] },
  version: { labels: string[]; preprocessing: Preprocessing | null },
  field: ArtifactField,
): Promise<ImageClassifierPlan> {
  const check = imageClassifierSignature(artifact, version.labels, version.preprocessing, { artifactField: field });
  if (!check.ok) throw artifactErrors.notServable(check.problems);
  const plan = check.plan;
  if (!plan.sizeDeclared || !plan.classCountDeclared) await probe(artifact.artifactPath, plan, field);
  return plan;
}

async function probe(path: string, plan: ImageClassifierPlan, field: ArtifactField): Promise<void> {
  // One thread that never spins: the gateway may share its process (and CPUs) with the data plane.
  const session = await InferenceSession.create(path, {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  try {
    const [, , height, width] = plan.inputDims;
    const image = new Tensor('float32', new Float32Array(3 * height * width), plan.inputDims);
    let scores: number;
    try {
      const results = await session.run({ [plan.inputName]: image }, [plan.outputName]);
      scores = results[plan.outputName].size;
    } catch (err) {
      // With a size of the user's choosing, that size is what to change; otherwise the model itself is broken.
      const blame = plan.sizeDeclared ? field : 'preprocessing.size';
      throw artifactErrors.probeFailed(blame, plan.inputDims, loadFailureReason(err, path), err);
    }
    if (scores !== plan.classCount) throw artifactErrors.labelsMismatch(scores, plan.classCount);
  } finally {
    await session.release();
  }
}
