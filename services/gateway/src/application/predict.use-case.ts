import { acceptsTraffic, errors, type PredictInput } from '@remotegpu/core';
import { getService } from './services.use-cases.js';
import type { AppDeps, PredictCallOptions, Prediction } from './ports.js';
import type { Principal } from './principal.js';

/** 404 when invisible, 409 when the service is stopped, otherwise the data plane answers (503 with no ready replica). */
export async function predict(
  deps: AppDeps,
  principal: Principal,
  id: string,
  input: PredictInput,
  options: PredictCallOptions = {},
): Promise<Prediction[]> {
  const service = await getService(deps, principal, id);
  if (!acceptsTraffic(service.status)) throw errors.notServing(id, service.status);
  return deps.predictor.predict(service, { image: input.image, topK: input.topK }, options);
}

/** Until the router exists (next issue) no replica is ever ready. */
export const noReplicaPredictor = {
  async predict(service: { id: string }): Promise<Prediction[]> {
    throw errors.noReadyReplica(service.id);
  },
};
