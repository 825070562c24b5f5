import { errors, versionBatchingProblem, type BatchingConfig, type ModelVersion, type ModelVersionPatch } from '@remotegpu/core';
import { getModel } from './models.use-cases.js';
import { modelVersionNotFound } from './models.delete.js';
import type { Principal } from './principal.js';
import type { AppDeps } from './ports.js';

/** Services nudged at once after a PATCH; any beyond (a version shared that widely) wait for the resync. */
const MAX_NUDGED = 1000;

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
 * version). The live services on this version are nudged (an `update` intent each, as a service PATCH sends); the
 * provisioner re-reads them and the runtime rolls their replicas one by one, as for any change of what a replica
 * runs, the new one ready before an old one stops. A lost intent only delays this to the next resync.
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
  for (const service of await deps.store.services.listUsingModel(modelId, version, MAX_NUDGED)) await deps.intents.publish('update', service);
  return updated;
}
