import { errors, type CreateModelInput, type CreateModelVersionInput, type Model, type ModelListQuery, type ModelVersion } from '@remotegpu/core';
import type { Page } from '@remotegpu/store';
import { assertCanActIn, canActIn, visibleWorkspaces, type Principal } from './principal.js';
import type { AppDeps, ArtifactSource } from './ports.js';
import { assertBatchable } from './model-version.batching.js';

export async function createModel(deps: AppDeps, principal: Principal, input: CreateModelInput): Promise<Model> {
  assertCanActIn(principal, input.workspaceId);
  const at = deps.now().toISOString();
  return deps.store.models.create({ ...input, createdAt: at, updatedAt: at });
}

export async function getModel(deps: AppDeps, principal: Principal, id: number): Promise<Model> {
  const model = await deps.store.models.get(id);
  if (!model || !canActIn(principal, model.workspaceId)) throw errors.modelNotFound(id);
  return model;
}

export async function findModel(deps: AppDeps, principal: Principal, id: number): Promise<Model | null> {
  const model = await deps.store.models.get(id);
  return model && canActIn(principal, model.workspaceId) ? model : null;
}

export async function getModelWithVersions(
  deps: AppDeps,
  principal: Principal,
  id: number,
): Promise<{ model: Model; versions: ModelVersion[] }> {
  const model = await getModel(deps, principal, id);
  return { model, versions: await deps.store.models.listVersions(id) };
}

export async function listModelVersions(deps: AppDeps, model: Model): Promise<ModelVersion[]> {
  return deps.store.models.listVersions(model.id);
}

export async function listModels(deps: AppDeps, principal: Principal, query: ModelListQuery): Promise<Page<Model>> {
  return deps.store.models.list({ visibleWorkspaces: visibleWorkspaces(principal), ...query });
}

/**
 * Registers a version: the artifact is stored and loaded once with onnxruntime to prove it works, its
 * signature is recorded, and what predict will do with it is checked (core's imageClassifierSignature): a version
 * is only accepted when every predict can be served. Nothing is kept on failure.
 */
export async function createModelVersion(
  deps: AppDeps,
  principal: Principal,
  modelId: number,
  input: CreateModelVersionInput,
  source: ArtifactSource,
): Promise<ModelVersion> {
  await getModel(deps, principal, modelId);
  if (await deps.store.models.getVersion(modelId, input.version)) throw errors.duplicateModelVersion(input.version);
  const artifact = await deps.artifacts.ingest(source, { modelId, version: input.version });
  try {
    await deps.artifacts.checkServable(artifact, input, source.kind === 'uri' ? 'artifact_uri' : 'file');
    assertBatchable({ ...artifact, labels: input.labels, preprocessing: input.preprocessing }, input.batching);
    return await deps.store.models.addVersion({
      modelId,
      version: input.version,
      format: 'onnx',
      artifactPath: artifact.artifactPath,
      source: source.kind === 'uri' ? source.uri : 'upload',
      sizeBytes: artifact.sizeBytes,
      sha256: artifact.sha256,
      inputs: artifact.inputs,
      outputs: artifact.outputs,
      labels: input.labels,
      preprocessing: input.preprocessing,
      ...(input.batching ? { batching: input.batching } : {}),
      createdAt: deps.now().toISOString(),
    });
  } catch (err) {
    await deps.artifacts.discard(artifact.artifactPath);
    throw err;
  }
}
