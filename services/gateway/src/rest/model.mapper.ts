import { batchingToWire, type BatchingWire, type Model, type ModelVersion, type Preprocessing, type TensorSpec } from '@remotegpu/core';

/** snake_case shapes of the model routes (DESIGN §3 additions). Artifact paths and sources stay internal. */

export interface ModelDto {
  model_id: number;
  name: string;
  workspace_id: number;
  framework: Model['framework'];
  task: Model['task'];
  description: string;
  created_at: string;
  updated_at: string;
}

export interface ModelVersionDto {
  model_id: number;
  version: string;
  format: ModelVersion['format'];
  size_bytes: number;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  labels: string[];
  preprocessing: Preprocessing | null;
  /** null: off (one model run per request). */
  batching: BatchingWire | null;
  created_at: string;
}

export interface ModelDetailDto extends ModelDto {
  versions: ModelVersionDto[];
}

export function toModel(m: Model): ModelDto {
  return {
    model_id: m.id,
    name: m.name,
    workspace_id: m.workspaceId,
    framework: m.framework,
    task: m.task,
    description: m.description,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export function toModelVersion(v: ModelVersion): ModelVersionDto {
  return {
    model_id: v.modelId,
    version: v.version,
    format: v.format,
    size_bytes: v.sizeBytes,
    sha256: v.sha256,
    inputs: v.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    outputs: v.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    labels: v.labels,
    preprocessing: v.preprocessing,
    batching: v.batching ? batchingToWire(v.batching) : null,
    created_at: v.createdAt,
  };
}

export function toModelDetail(m: Model, versions: ModelVersion[]): ModelDetailDto {
  return { ...toModel(m), versions: versions.map(toModelVersion) };
}
