import type { BatchingConfig } from './batching.js';
import type { Framework } from './service.js';

export const MODEL_TASKS = ['image-classification'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

export interface Model {
  id: number;
  workspaceId: number;
  name: string;
  framework: Framework;
  task: ModelTask;
  description: string;
  createdAt: string;
  updatedAt: string;
}

/** One tensor of an ONNX graph's signature, as onnxruntime reports it (dynamic dimensions are -1). */
export interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * How images become the model's input (DESIGN §3): scaled to [0,1], then `(x - mean[c]) / std[c]` per RGB channel,
 * resized to `size` = [height, width]. `size` is required when the model's height or width is dynamic and must
 * equal them when fixed (see `imageClassifierSignature`); absent, the model's own fixed size is used.
 */
export interface Preprocessing {
  mean: [number, number, number];
  std: [number, number, number];
  size?: [number, number];
}

export interface ModelVersion {
  modelId: number;
  version: string;
  format: 'onnx';
  /** Absolute path of the verified artifact in the data directory. */
  artifactPath: string;
  /** Where the artifact came from: `upload`, or the `artifact_uri` it was fetched from. */
  source: string;
  sizeBytes: number;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  labels: string[];
  preprocessing: Preprocessing | null;
  /** Dynamic batching of the replicas serving this version; absent: off (one model run per request). */
  batching?: BatchingConfig;
  createdAt: string;
}

/** onnxruntime's element types → Open Inference Protocol v2 datatype names (registry and model server agree). */
export const OIP_DATATYPES: Readonly<Record<string, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};
