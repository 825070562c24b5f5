import { errors, versionBatchingProblem, type BatchingConfig, type ModelVersion, type ModelVersionPatch } from '@remotegpu/core';
import { getModel } from './models.use-cases.js';
import { modelVersionNotFound } from './models.delete.js';
import type { Principal } from './principal.js';
import type { AppDeps } from './ports.js';

/** 422 on `batching` when the version's model cannot take a batch (its batch dimension is fixed at 1). */
export function assertBatchable(
  version: Pick<ModelVersion, 'inputs' | 'outputs' | 'labels' | 'preprocessing'>,
  batching: BatchingConfig | null,
): void {
  const problem = versionBatchingProblem(version, batching);
  if (problem) throw errors.unprocessable(problem, [{ field: 'batching', message: problem }]);
}

/**
 * PATCH of a version: its batching (the only mutable field; the artifact, labels and preprocessing make a new
 * version). Services on this version pick it up at the provisioner's next reconcile (at most its resync period),
 * which rolls their replicas one by one like any other template change, the new one ready before an old one stops.
 */
export async function updateModelVersion(
  deps: AppDeps,
  principal: Principal,
  modelId: number,
  version: string,
  patch: ModelVersionPatch,
): Promise<ModelVersion> {
  await getModel(deps, principal, modelId);
  const current = await deps.store.models.getVersion(modelId, version);
  if (!current) throw modelVersionNotFound(modelId, version);
  assertBatchable(current, patch.batching);
  const updated = await deps.store.models.setVersionBatching(modelId, version, patch.batching);
  if (!updated) throw modelVersionNotFound(modelId, version);
  return updated;
}
