import type { DesiredState, Framework, InferenceService, ReasonParams, ReplicaEndpoint, ReplicaState, ServiceEvent, ServiceEventType, ServiceStatus } from '@remotegpu/core';
import type { NewService, ServicePatch } from '../store.port.js';
import { nameKey } from './sqlite.helpers.js';

/** A `services` row as SQLite returns it (the string unions are trusted: only the store writes them). */
export interface ServiceRow {
  id: string;
  workspace_id: number;
  name: string;
  description: string;
  model_id: number;
  model_version: string;
  framework: string;
  cpu: number;
  memory: number;
  gpu: number;
  replicas: number;
  desired_state: string;
  status: string;
  status_reason: string | null;
  status_params: string | null;
  status_message: string | null;
  ready_replicas: number;
  endpoints: string;
  replica_states: string;
  generation: number;
  observed_generation: number;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface EventRow {
  service_id: string;
  type: string;
  status: string;
  reason: string | null;
  params: string | null;
  message: string | null;
  at: string;
}

/** Every column a read returns; `name_key` is internal. */
export const SERVICE_COLUMNS =
  'id, workspace_id, name, description, model_id, model_version, framework, cpu, memory, gpu, replicas, ' +
  'desired_state, status, status_reason, status_params, status_message, ready_replicas, endpoints, replica_states, generation, observed_generation, version, ' +
  'created_at, updated_at, deleted_at';

export function toService(row: ServiceRow): InferenceService {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    modelId: row.model_id,
    modelVersion: row.model_version,
    framework: row.framework as Framework,
    cpu: row.cpu,
    memory: row.memory,
    gpu: row.gpu,
    replicas: row.replicas,
    desiredState: row.desired_state as DesiredState,
    status: row.status as ServiceStatus,
    statusReason: row.status_reason,
    statusParams: paramsOf(row.status_params),
    statusMessage: row.status_message,
    readyReplicas: row.ready_replicas,
    endpoints: JSON.parse(row.endpoints) as ReplicaEndpoint[],
    replicaStates: JSON.parse(row.replica_states) as ReplicaState[],
    generation: row.generation,
    observedGeneration: row.observed_generation,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

/** Columns an insert writes (`version` starts at 1 in the statement itself). */
export const INSERT_COLUMNS = [
  ...SERVICE_COLUMNS.split(', ').filter((c) => c !== 'version'),
  'name_key',
] as const;

/** Named parameters for the insert statement, one per INSERT_COLUMNS entry. */
export function insertParams(s: NewService): Record<string, unknown> {
  return {
    id: s.id,
    workspace_id: s.workspaceId,
    name: s.name,
    name_key: nameKey(s.name),
    description: s.description,
    model_id: s.modelId,
    model_version: s.modelVersion,
    framework: s.framework,
    cpu: s.cpu,
    memory: s.memory,
    gpu: s.gpu,
    replicas: s.replicas,
    desired_state: s.desiredState,
    status: s.status,
    status_reason: s.statusReason,
    status_params: s.statusParams ? JSON.stringify(s.statusParams) : null,
    status_message: s.statusMessage,
    ready_replicas: s.readyReplicas,
    endpoints: JSON.stringify(s.endpoints),
    replica_states: JSON.stringify(s.replicaStates ?? []),
    generation: s.generation,
    observed_generation: s.observedGeneration,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    deleted_at: s.deletedAt,
  };
}

export function toEvent(row: EventRow): ServiceEvent {
  return {
    serviceId: row.service_id,
    type: row.type as ServiceEventType,
    status: row.status as ServiceStatus,
    reason: row.reason,
    params: paramsOf(row.params),
    message: row.message,
    at: row.at,
  };
}

/** A JSON params column: null on rows written before it existed. */
function paramsOf(text: string | null): ReasonParams | null {
  return text === null ? null : (JSON.parse(text) as ReasonParams);
}

type PatchField = Exclude<keyof ServicePatch, 'updatedAt'>;

/** Column of each patchable field; typed over the patch so a new field fails to compile until mapped here. */
export const PATCH_COLUMNS: Record<PatchField, string> = {
  name: 'name',
  description: 'description',
  modelId: 'model_id',
  modelVersion: 'model_version',
  framework: 'framework',
  cpu: 'cpu',
  memory: 'memory',
  gpu: 'gpu',
  replicas: 'replicas',
  desiredState: 'desired_state',
  status: 'status',
  statusReason: 'status_reason',
  statusParams: 'status_params',
  statusMessage: 'status_message',
  readyReplicas: 'ready_replicas',
  endpoints: 'endpoints',
  replicaStates: 'replica_states',
  generation: 'generation',
  observedGeneration: 'observed_generation',
  deletedAt: 'deleted_at',
};

/** A patch value as its column stores it (JSON columns are text). */
export function columnValue(field: PatchField, patch: ServicePatch): unknown {
  if (field === 'endpoints') return JSON.stringify(patch.endpoints);
  if (field === 'replicaStates') return JSON.stringify(patch.replicaStates);
  if (field === 'statusParams') return patch.statusParams ? JSON.stringify(patch.statusParams) : null;
  return patch[field];
}

/** The fields a patch sets, in a stable order (an absent or `undefined` value leaves the column alone). */
export function patchedFields(patch: ServicePatch): PatchField[] {
  return (Object.keys(PATCH_COLUMNS) as PatchField[]).filter((f) => patch[f] !== undefined);
}
