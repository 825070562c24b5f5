import { endpointUrl, eventMessageIn, statusMessageIn, type InferenceService, type Language, type ReplicaState, type ServiceEvent } from '@remotegpu/core';

/** The seed's snake_case shapes (seed-api.md §1–3); field names must not drift from the document. */

export interface ServiceCreatedDto {
  service_id: string;
  name: string;
  status: InferenceService['status'];
  created_at: string;
}

export interface ServiceSummaryDto extends ServiceCreatedDto {
  endpoint_url: string;
  replicas: number;
}

export interface ServiceDetailDto extends ServiceSummaryDto {
  description: string;
  model_id: number;
  model_version: string;
  framework: InferenceService['framework'];
  cpu: number;
  memory: number;
  gpu: number;
  workspace_id: number;
  ready_replicas: number;
  status_reason: string | null;
  status_message: string | null;
  updated_at: string;
  /** Each replica as the provisioner last saw it (an addition to the seed's shape). */
  replica_states: ReplicaStateDto[];
}

export interface ReplicaStateDto {
  replica_id: string;
  generation: number;
  state: ReplicaState['state'];
  restarts: number;
  device: string | null;
  message: string | null;
}

export interface ServiceEventDto {
  type: ServiceEvent['type'];
  status: ServiceEvent['status'];
  reason: string | null;
  message: string | null;
  at: string;
}

export function toServiceCreated(s: InferenceService): ServiceCreatedDto {
  return { service_id: s.id, name: s.name, status: s.status, created_at: s.createdAt };
}

export function toServiceSummary(s: InferenceService, publicUrl: string): ServiceSummaryDto {
  return {
    service_id: s.id,
    name: s.name,
    status: s.status,
    endpoint_url: endpointUrl(publicUrl, s.id),
    replicas: s.replicas,
    created_at: s.createdAt,
  };
}

/** `status_message` is worded in the request's language from `status_reason` and its parameters. */
export function toServiceDetail(s: InferenceService, publicUrl: string, lang: Language): ServiceDetailDto {
  return {
    service_id: s.id,
    name: s.name,
    description: s.description,
    status: s.status,
    model_id: s.modelId,
    model_version: s.modelVersion,
    framework: s.framework,
    endpoint_url: endpointUrl(publicUrl, s.id),
    cpu: s.cpu,
    memory: s.memory,
    gpu: s.gpu,
    replicas: s.replicas,
    created_at: s.createdAt,
    workspace_id: s.workspaceId,
    ready_replicas: s.readyReplicas,
    status_reason: s.statusReason,
    status_message: statusMessageIn(s, lang),
    updated_at: s.updatedAt,
    replica_states: (s.replicaStates ?? []).map((r) => ({
      replica_id: r.replicaId,
      generation: r.generation,
      state: r.state,
      restarts: r.restarts,
      device: r.device,
      message: r.message,
    })),
  };
}

export function toServiceEvent(e: ServiceEvent, lang: Language): ServiceEventDto {
  return { type: e.type, status: e.status, reason: e.reason, message: eventMessageIn(e, lang), at: e.at };
}
