import { errors, type Model, type ModelVersion } from '@remotegpu/core';
import type { AppDeps } from './ports.js';

/**
 * A service may only use a model of its own workspace. A model of another workspace, or a version that
 * was never uploaded, is a reference that does not resolve: 422, naming the field.
 */
export async function resolveModelVersion(
  deps: AppDeps,
  workspaceId: number,
  modelId: number,
  version: string,
): Promise<{ model: Model; version: ModelVersion }> {
  const model = await deps.store.models.get(modelId);
  if (!model || model.workspaceId !== workspaceId) {
    throw errors.unprocessable(
      { zh: `模型 ${modelId} 在工作空间 ${workspaceId} 中不存在`, en: `model ${modelId} does not exist in workspace ${workspaceId}` },
      [{ field: 'model_id', message: { zh: '模型不存在', en: 'no such model in this workspace' } }],
    );
  }
  const found = await deps.store.models.getVersion(modelId, version);
  if (!found) {
    throw errors.unprocessable(
      { zh: `模型 ${modelId} 没有版本 ${version}`, en: `model ${modelId} has no version ${version}` },
      [{ field: 'model_version', message: { zh: '模型版本不存在', en: 'no such version of this model' } }],
    );
  }
  return { model, version: found };
}
