import {
  AppError,
  ErrorCode,
  errors,
  isAppError,
  isStaleWrite,
  nextStatus,
  newServiceId,
  type CreateServiceInput,
  type InferenceService,
  type LifecycleAction,
  type ServiceEvent,
  type ServiceListQuery,
  type UpdateServiceInput,
} from '@remotegpu/core';
import type { IdempotencyClaim, Page, ServicePatch } from '@remotegpu/store';
import { assertCanActIn, canActIn, visibleWorkspaces, type Principal } from './principal.js';
import type { AppDeps, CallTrace } from './ports.js';
import { resolveModelVersion } from './model-reference.js';

/**
 * The inference-service use cases. REST routes and GraphQL resolvers are thin wrappers around these
 * functions, so both ways in share one rule set. They write the desired spec and publish an intent;
 * the provisioner does the rest.
 */

export async function createService(
  deps: AppDeps,
  principal: Principal,
  input: CreateServiceInput,
  idempotency?: Omit<IdempotencyClaim, 'scope'>,
  trace?: CallTrace,
): Promise<{ service: InferenceService; replayed: boolean }> {
  assertCanActIn(principal, input.workspaceId);
  const { model } = await resolveModelVersion(deps, input.workspaceId, input.modelId, input.modelVersion);
  if (input.framework && input.framework !== model.framework) {
    throw errors.unprocessable(
      {
        zh: `框架 ${input.framework} 与模型的框架 ${model.framework} 不一致`,
        en: `framework ${input.framework} does not match the model's framework ${model.framework}`,
      },
      [{ field: 'framework', message: { zh: `必须是 ${model.framework}`, en: `must be ${model.framework}` } }],
    );
  }
  const at = deps.now().toISOString();
  const result = await deps.store.services.create(
    {
      id: newServiceId(),
      workspaceId: input.workspaceId,
      name: input.name,
      description: input.description,
      modelId: input.modelId,
      modelVersion: input.modelVersion,
      framework: model.framework,
      cpu: input.cpu,
      memory: input.memory,
      gpu: input.gpu,
      replicas: input.replicas,
      desiredState: 'running',
      status: 'creating',
      statusReason: null,
      statusMessage: null,
      readyReplicas: 0,
      endpoints: [],
      generation: 1,
      observedGeneration: 0,
      createdAt: at,
      updatedAt: at,
      deletedAt: null,
    },
    idempotency && { ...idempotency, scope: principal.sub },
  );
  if (result.replayed && result.service.deletedAt) {
    // The first request's service is gone: answering with it would show a deleted object as created.
    throw new AppError(
      ErrorCode.Conflict,
      { zh: '该 Idempotency-Key 创建的推理服务已被删除，请使用新的 Key', en: 'The service created with this Idempotency-Key was deleted since; use a new key' },
      { reason: 'idempotency_deleted' },
    );
  }
  if (!result.replayed) await deps.intents.publish('create', result.service, trace);
  return result;
}

/** The service if this principal may see it; otherwise 404, whether it exists or not. */
export async function getService(deps: AppDeps, principal: Principal, id: string): Promise<InferenceService> {
  const service = await deps.store.services.get(id);
  if (!service || !canActIn(principal, service.workspaceId)) throw errors.serviceNotFound(id);
  return service;
}

export async function findService(deps: AppDeps, principal: Principal, id: string): Promise<InferenceService | null> {
  const service = await deps.store.services.get(id);
  return service && canActIn(principal, service.workspaceId) ? service : null;
}

export async function listServices(
  deps: AppDeps,
  principal: Principal,
  query: ServiceListQuery,
): Promise<Page<InferenceService>> {
  return deps.store.services.list({
    visibleWorkspaces: visibleWorkspaces(principal),
    workspaceId: query.workspaceId,
    status: query.status,
    nameContains: query.name,
    page: query.page,
    pageSize: query.pageSize,
  });
}

export async function listServiceEvents(deps: AppDeps, principal: Principal, id: string): Promise<ServiceEvent[]> {
  await getService(deps, principal, id);
  return deps.store.services.listEvents(id);
}

/** Optimistic read-modify-write: a concurrent writer makes us re-read and re-decide, a few times. */
async function mutate(
  deps: AppDeps,
  principal: Principal,
  id: string,
  decide: (current: InferenceService) => Promise<{ patch: ServicePatch; event?: Omit<ServiceEvent, 'serviceId'> } | null>,
): Promise<InferenceService> {
  for (let attempt = 0; ; attempt++) {
    const current = await getService(deps, principal, id);
    const change = await decide(current);
    if (!change) return current;
    try {
      return await deps.store.services.update(id, current.version, { ...change.patch, updatedAt: deps.now().toISOString() }, change.event);
    } catch (err) {
      if (!(isStaleWrite(err) && attempt < 4)) throw err;
    }
  }
}

function statusEvent(
  deps: AppDeps,
  type: ServiceEvent['type'],
  status: InferenceService['status'],
  message: string,
  params: ServiceEvent['params'] = null,
): Omit<ServiceEvent, 'serviceId'> {
  // `message` is the English line (stored); readers word it per request from type and params (core eventMessageIn).
  return { type, status, reason: null, params, message, at: deps.now().toISOString() };
}

function transition(current: InferenceService, action: LifecycleAction) {
  return nextStatus(current.status, action);
}

export async function stopService(deps: AppDeps, principal: Principal, id: string, trace?: CallTrace): Promise<InferenceService> {
  const service = await mutate(deps, principal, id, async (current) => {
    if (current.desiredState === 'stopped') return null; // stop is idempotent
    const status = transition(current, { type: 'stop' });
    return {
      patch: { desiredState: 'stopped', status, statusReason: 'stop_requested', statusParams: null, statusMessage: null },
      event: statusEvent(deps, 'stop_requested', status, 'stop requested'),
    };
  });
  await deps.intents.publish('stop', service, trace);
  return service;
}

export async function startService(deps: AppDeps, principal: Principal, id: string, trace?: CallTrace): Promise<InferenceService> {
  const service = await mutate(deps, principal, id, async (current) => {
    if (current.desiredState === 'running' && current.status !== 'failed') return null; // start is idempotent
    const status = transition(current, { type: 'start' });
    return {
      patch: { desiredState: 'running', status, statusReason: 'start_requested', statusParams: null, statusMessage: null, readyReplicas: 0 },
      event: statusEvent(deps, 'start_requested', status, 'start requested'),
    };
  });
  await deps.intents.publish('start', service, trace);
  return service;
}

const RUNTIME_FIELDS = ['modelVersion', 'cpu', 'memory', 'gpu', 'replicas'] as const;
/** The history is read through the REST API (snake_case, like the PATCH body that caused it). */
const FIELD_NAMES: Record<(typeof RUNTIME_FIELDS)[number], string> = {
  modelVersion: 'model_version',
  cpu: 'cpu',
  memory: 'memory',
  gpu: 'gpu',
  replicas: 'replicas',
};

export async function updateService(
  deps: AppDeps,
  principal: Principal,
  id: string,
  input: UpdateServiceInput,
  trace?: CallTrace,
): Promise<InferenceService> {
  const service = await mutate(deps, principal, id, async (current) => {
    if (input.modelVersion !== undefined && input.modelVersion !== current.modelVersion) {
      await resolveModelVersion(deps, current.workspaceId, current.modelId, input.modelVersion);
    }
    const changed = RUNTIME_FIELDS.filter((f) => input[f] !== undefined && input[f] !== current[f]);
    const describes = input.description !== undefined && input.description !== current.description;
    if (!changed.length && !describes) return null;
    const patch: ServicePatch = { ...input };
    let status = current.status;
    if (changed.length) {
      status = transition(current, { type: 'respec' });
      // Like a Deployment's pod template: only a change to what a replica runs starts a new generation (a
      // rolling replacement); a replica count change scales and leaves surviving replicas alone.
      if (changed.some((f) => f !== 'replicas')) patch.generation = current.generation + 1;
      patch.status = status;
      if (status !== current.status) {
        patch.statusReason = 'spec_changed';
        patch.statusParams = null;
        patch.statusMessage = null;
      }
    }
    const what = [...changed.map((f) => FIELD_NAMES[f]), ...(describes ? ['description'] : [])].join(', ');
    return { patch, event: statusEvent(deps, 'updated', status, `changed ${what}`, { fields: what }) };
  });
  await deps.intents.publish('update', service, trace);
  return service;
}

/** Hides the service at once; the provisioner releases its replicas and purges the record later. */
export async function deleteService(deps: AppDeps, principal: Principal, id: string, trace?: CallTrace): Promise<void> {
  const service = await mutate(deps, principal, id, async (current) => {
    const status = transition(current, { type: 'stop' });
    return {
      patch: { deletedAt: deps.now().toISOString(), desiredState: 'stopped', status, statusReason: 'delete_requested', statusParams: null, statusMessage: null },
      event: statusEvent(deps, 'delete_requested', status, 'delete requested'),
    };
  });
  await deps.intents.publish('delete', service, trace);
}
