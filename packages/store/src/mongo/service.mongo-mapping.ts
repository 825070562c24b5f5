import {
  copyEndpoint,
  type DesiredState,
  type Framework,
  type InferenceService,
  type ReplicaEndpoint,
  type ReplicaState,
  type ReplicaStateName,
  type ServiceEvent,
  type ServiceEventType,
  type ServiceStatus,
} from '@remotegpu/core';
import type { NewService, ServicePatch } from '../store.port.js';
import { nameKey } from '../store.keys.js';
import type { ReplicaStateDoc, ServiceDoc, ServiceEventDoc } from './mongo.schemas.js';

/** Every read of a service leaves its history behind: it is read only by `listEvents`. */
export const WITHOUT_EVENTS = { events: 0 } as const;

function iso(date: Date): string {
  return date.toISOString();
}

/** A stored service as the domain sees it; the string unions are trusted (only the store writes them). */
export function toService(doc: Omit<ServiceDoc, 'events'>): InferenceService {
  return {
    id: doc._id,
    workspaceId: doc.workspaceId,
    name: doc.name,
    description: doc.description,
    modelId: doc.modelId,
    modelVersion: doc.modelVersion,
    framework: doc.framework as Framework,
    cpu: doc.cpu,
    memory: doc.memory,
    gpu: doc.gpu,
    replicas: doc.replicas,
    desiredState: doc.desiredState as DesiredState,
    status: doc.status as ServiceStatus,
    statusReason: doc.statusReason ?? null,
    statusParams: doc.statusParams ?? null,
    statusMessage: doc.statusMessage ?? null,
    readyReplicas: doc.readyReplicas,
    endpoints: (doc.endpoints ?? []).map((e) => copyEndpoint(e) satisfies ReplicaEndpoint),
    replicaStates: (doc.replicaStates ?? []).map(replicaState),
    generation: doc.generation,
    observedGeneration: doc.observedGeneration,
    version: doc.version,
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
    deletedAt: doc.deletedAt ? iso(doc.deletedAt) : null,
  };
}

/** A replica state with exactly its own fields (the stored subdocument carries nothing else). */
function replicaState(r: ReplicaState | ReplicaStateDoc): ReplicaState {
  return {
    replicaId: r.replicaId,
    generation: r.generation,
    state: r.state as ReplicaStateName,
    restarts: r.restarts,
    device: r.device ?? null,
    message: r.message ?? null,
  };
}

export function toEvent(serviceId: string, e: ServiceEventDoc): ServiceEvent {
  return {
    serviceId,
    type: e.type as ServiceEventType,
    status: e.status as ServiceStatus,
    reason: e.reason ?? null,
    params: e.params ?? null,
    message: e.message ?? null,
    at: iso(e.at),
  };
}

export function eventDoc(e: Omit<ServiceEvent, 'serviceId'>): ServiceEventDoc {
  return { type: e.type, status: e.status, reason: e.reason, params: e.params ?? null, message: e.message, at: new Date(e.at) };
}

/** The document of a new service: version 1, live unless created deleted, its `created` history line inside. */
export function newServiceDoc(s: NewService): ServiceDoc {
  return {
    _id: s.id,
    workspaceId: s.workspaceId,
    name: s.name,
    nameKey: nameKey(s.name),
    description: s.description,
    modelId: s.modelId,
    modelVersion: s.modelVersion,
    framework: s.framework,
    cpu: s.cpu,
    memory: s.memory,
    gpu: s.gpu,
    replicas: s.replicas,
    desiredState: s.desiredState,
    status: s.status,
    statusReason: s.statusReason,
    statusParams: s.statusParams ?? null,
    statusMessage: s.statusMessage,
    readyReplicas: s.readyReplicas,
    endpoints: s.endpoints.map(copyEndpoint),
    replicaStates: (s.replicaStates ?? []).map(replicaState),
    generation: s.generation,
    observedGeneration: s.observedGeneration,
    version: 1,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
    deletedAt: s.deletedAt ? new Date(s.deletedAt) : null,
    ...(s.deletedAt ? {} : { live: true as const }),
    events: [{ type: 'created', status: s.status, reason: null, params: null, message: null, at: new Date(s.createdAt) }],
  };
}

type PatchField = Exclude<keyof ServicePatch, 'updatedAt'>;

/** How each patchable field is stored; typed over the patch so a new field fails to compile until it is mapped. */
const PATCH_VALUE: Record<PatchField, (patch: ServicePatch) => unknown> = {
  name: (p) => p.name,
  description: (p) => p.description,
  modelId: (p) => p.modelId,
  modelVersion: (p) => p.modelVersion,
  framework: (p) => p.framework,
  cpu: (p) => p.cpu,
  memory: (p) => p.memory,
  gpu: (p) => p.gpu,
  replicas: (p) => p.replicas,
  desiredState: (p) => p.desiredState,
  status: (p) => p.status,
  statusReason: (p) => p.statusReason,
  statusParams: (p) => p.statusParams ?? null,
  statusMessage: (p) => p.statusMessage,
  readyReplicas: (p) => p.readyReplicas,
  endpoints: (p) => p.endpoints?.map(copyEndpoint),
  replicaStates: (p) => p.replicaStates?.map(replicaState),
  generation: (p) => p.generation,
  observedGeneration: (p) => p.observedGeneration,
  deletedAt: (p) => (p.deletedAt ? new Date(p.deletedAt) : null),
};

/**
 * The update of an optimistic write: the patched fields (an absent or `undefined` one is left alone), the new
 * `updatedAt`, the version bumped, `live` following `deletedAt`, and the history line pushed with the oldest ones
 * dropped past `historyLimit` — all in one document write.
 */
export function patchUpdate(patch: ServicePatch, updatedAt: Date, event: Omit<ServiceEvent, 'serviceId'> | undefined, historyLimit: number): Record<string, unknown> {
  const set: Record<string, unknown> = { updatedAt };
  for (const field of Object.keys(PATCH_VALUE) as PatchField[]) {
    if (patch[field] !== undefined) set[field] = PATCH_VALUE[field](patch);
  }
  if (patch.name !== undefined) set.nameKey = nameKey(patch.name);
  const update: Record<string, unknown> = { $set: set, $inc: { version: 1 } };
  if (patch.deletedAt !== undefined) {
    if (patch.deletedAt === null) set.live = true;
    else update.$unset = { live: '' };
  }
  if (event) update.$push = { events: { $each: [eventDoc(event)], $slice: -historyLimit } };
  return update;
}
