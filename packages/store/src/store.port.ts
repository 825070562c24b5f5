import type {
  BatchingConfig,
  InferenceService,
  Model,
  ModelVersion,
  ServiceEvent,
  ServiceStatus,
} from '@remotegpu/core';

/**
 * The Store port. Every adapter (SQLite embedded, MongoDB) runs the same contract suite
 * (`@remotegpu/store/contract`). All methods are async so a networked adapter fits the same shape.
 *
 * Conflicts are reported as `AppError`s with stable codes (see @remotegpu/core `errors`):
 * duplicate name → 40900 (`errors.duplicateServiceName`), stale `expectedVersion` → 40900
 * (`errors.concurrentModification`), idempotency key reused with another body → 40900.
 */
export interface Store {
  readonly services: ServiceRepository;
  readonly models: ModelRepository;
  /** True when the backing database answers (used by `/readyz`). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A fresh service before it is stored; `version` starts at 1 and is set by the store. */
export type NewService = Omit<InferenceService, 'version'>;

export interface IdempotencyClaim {
  /** The principal's scope for keys (`sub`), so two users may pick the same key. */
  scope: string;
  key: string;
  /** Hash of the canonical request body: the same key with another body is a conflict. */
  requestHash: string;
}

export interface ServiceListFilter {
  /** Workspaces the caller may see; `'all'` for an admin. */
  visibleWorkspaces: readonly number[] | 'all';
  workspaceId?: number;
  status?: ServiceStatus;
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  page: number;
  pageSize: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** Fields a write may change; `version` and `id` never change through a patch. */
export type ServicePatch = Partial<
  Omit<InferenceService, 'id' | 'workspaceId' | 'createdAt' | 'version'>
>;

export interface ServiceRepository {
  /**
   * Inserts the service and its `created` event atomically. With an idempotency claim, a replay of the
   * same scope+key and body returns the service first created, as it is now (`replayed: true`), even if it
   * was deleted since (the caller decides what to answer); the same key with another body → 40900.
   * Keys are kept 24 hours.
   */
  create(service: NewService, idempotency?: IdempotencyClaim): Promise<{ service: InferenceService; replayed: boolean }>;
  /** The service unless deleted. */
  get(id: string): Promise<InferenceService | null>;
  /** Includes deleted services (the provisioner's finalizer needs them). */
  getIncludingDeleted(id: string): Promise<InferenceService | null>;
  /** Newest first (createdAt desc, then id desc), never deleted ones. */
  list(filter: ServiceListFilter): Promise<Page<InferenceService>>;
  /**
   * Optimistic write: applies `patch` only if the stored version equals `expectedVersion`, bumps
   * `version`, sets `updatedAt`, and appends `event` (if given) in the same transaction.
   * Throws 40900 on a stale version, 40400 when the service does not exist (or is deleted and the
   * patch does not itself concern a deleted record), 40900 on a duplicate name.
   */
  update(id: string, expectedVersion: number, patch: ServicePatch, event?: Omit<ServiceEvent, 'serviceId'>): Promise<InferenceService>;
  /** Services the provisioner must look at: every one not yet purged, including deleted ones. */
  listForReconcile(): Promise<InferenceService[]>;
  /** Removes a deleted service's record for good (the finalizer's last step). */
  purge(id: string): Promise<void>;
  /** Oldest first. */
  listEvents(serviceId: string, limit?: number): Promise<ServiceEvent[]>;
  /**
   * Live (not deleted) services that use the model, or only that version of it when `version` is given; oldest
   * first, at most `limit` (default 20) — enough to name them in a 409 when the model is deleted.
   */
  listUsingModel(modelId: number, version?: string, limit?: number): Promise<InferenceService[]>;
}

export type NewModel = Omit<Model, 'id'>;

export interface ModelListFilter {
  visibleWorkspaces: readonly number[] | 'all';
  workspaceId?: number;
  page: number;
  pageSize: number;
}

export interface ModelRepository {
  /** Assigns an integer id. Duplicate name in the same workspace → 40900. */
  create(model: NewModel): Promise<Model>;
  get(id: number): Promise<Model | null>;
  list(filter: ModelListFilter): Promise<Page<Model>>;
  /** Duplicate (modelId, version) → 40900. */
  addVersion(version: ModelVersion): Promise<ModelVersion>;
  getVersion(modelId: number, version: string): Promise<ModelVersion | null>;
  /** Oldest first. */
  listVersions(modelId: number): Promise<ModelVersion[]>;
  /**
   * Removes the model and all its versions' records; returns the versions removed (their artifacts are the
   * caller's to delete), or null when there was no such model. Whether a service still uses it is the caller's check.
   */
  delete(id: number): Promise<ModelVersion[] | null>;
  /** Removes one version's record; returns it, or null when there was none. */
  deleteVersion(modelId: number, version: string): Promise<ModelVersion | null>;
  /** Sets (or with null removes) a version's dynamic batching; returns the version, or null when there is none. */
  setVersionBatching(modelId: number, version: string, batching: BatchingConfig | null): Promise<ModelVersion | null>;
}
