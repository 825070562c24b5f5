import { AppError, ErrorCode, errors, type InferenceService } from '@remotegpu/core';
import { getModel } from './models.use-cases.js';
import type { AppDeps } from './ports.js';
import type { Principal } from './principal.js';

/** How many of the services holding a model a 409 names; the message says when there are more. */
const NAMED_USERS = 10;

export function modelVersionNotFound(modelId: number, version: string): AppError {
  return new AppError(ErrorCode.NotFound, {
    zh: `模型版本不存在: 模型 ${modelId} 版本 ${version}`,
    en: `Model version not found: model ${modelId} version ${version}`,
  });
}

/**
 * 409 naming the live services that still use the model (or version): the user must delete them, or move them to
 * another version, first. A stopped service counts — starting it again needs the artifact.
 */
function modelInUse(modelId: number, version: string | undefined, users: InferenceService[]): AppError {
  const shown = users.slice(0, NAMED_USERS).map((s) => `${s.id} (${s.name})`).join(', ');
  const more = users.length > NAMED_USERS;
  const what = version === undefined ? { zh: `模型 ${modelId}`, en: `Model ${modelId}` } : { zh: `模型 ${modelId} 版本 ${version}`, en: `Model ${modelId} version ${version}` };
  return new AppError(
    ErrorCode.Conflict,
    {
      zh: `${what.zh} 仍被推理服务使用，无法删除: ${shown}${more ? ' 等' : ''}；请先删除这些服务或将其切换到其他版本`,
      en: `${what.en} is still used by inference services and cannot be deleted: ${shown}${more ? ', and more' : ''}; delete them or move them to another version first`,
    },
    { reason: 'model_in_use' },
  );
}

/**
 * Deletes a model, every version's record and every stored artifact. Refused with 409 while a live (not deleted)
 * service uses any version. The check and the delete are two store calls: a service created in between (it had
 * to name a version that still existed) finds its version gone and fails with `model_version_missing`, as
 * it would after any artifact loss — nothing runs on a deleted artifact unnoticed.
 */
export async function deleteModel(deps: AppDeps, principal: Principal, id: number): Promise<void> {
  await getModel(deps, principal, id);
  const users = await deps.store.services.listUsingModel(id, undefined, NAMED_USERS + 1);
  if (users.length > 0) throw modelInUse(id, undefined, users);
  const removed = await deps.store.models.delete(id);
  if (removed === null) throw errors.modelNotFound(id);
  // After the records: a failure here leaves a file no record points to, never a record without its file.
  for (const version of removed) await deps.artifacts.discard(version.artifactPath);
}

/** Deletes one version and its stored artifact; 409 while a live service uses that version, 404 when there is none. */
export async function deleteModelVersion(deps: AppDeps, principal: Principal, modelId: number, version: string): Promise<void> {
  await getModel(deps, principal, modelId);
  if (!(await deps.store.models.getVersion(modelId, version))) throw modelVersionNotFound(modelId, version);
  const users = await deps.store.services.listUsingModel(modelId, version, NAMED_USERS + 1);
  if (users.length > 0) throw modelInUse(modelId, version, users);
  const removed = await deps.store.models.deleteVersion(modelId, version);
  if (removed === null) throw modelVersionNotFound(modelId, version);
  await deps.artifacts.discard(removed.artifactPath);
}
