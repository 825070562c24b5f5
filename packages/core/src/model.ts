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

export interface Preprocessing {
  mean: [number, number, number];
  std: [number, number, number];
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
  createdAt: string;
}
