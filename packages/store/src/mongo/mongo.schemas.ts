import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The collections of the MongoDB store and their indexes. Every write of the store is one document write, so no
 * transaction (and no replica set) is needed:
 *
 * - `services`: one document per service, its lifecycle history embedded (bounded), so a status change and its
 *   history line are one atomic write. `live: true` marks a service not deleted; it is unset on delete. Every list
 *   index is partial on it (lists never show deleted services), and so is the unique name index: names are unique
 *   per workspace among live services. `live` rather than `deletedAt: null`: a partial filter cannot say "equals
 *   null" portably across server versions, and equality to true works on every one since 3.2.
 * - `idempotency_keys`: one per (scope, key), unique, expired by a TTL index 24 h after the claim.
 * - `models` (integer `_id` from the `counters` document `models`), `model_versions`.
 * - `store_meta`: the schema version this database was written with.
 */

export const SCHEMA_VERSION = 1;
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const LIVE = { live: true } as const;
const options = { versionKey: false as const, minimize: false, strict: true as const, autoIndex: false, autoCreate: false, id: false };

export interface ServiceEventDoc {
  type: string;
  status: string;
  reason: string | null;
  params: Record<string, string | number> | null;
  message: string | null;
  at: Date;
}

export interface ServiceDoc {
  _id: string;
  workspaceId: number;
  name: string;
  nameKey: string;
  description: string;
  modelId: number;
  modelVersion: string;
  framework: string;
  cpu: number;
  memory: number;
  gpu: number;
  replicas: number;
  desiredState: string;
  status: string;
  statusReason: string | null;
  statusParams: Record<string, string | number> | null;
  statusMessage: string | null;
  readyReplicas: number;
  endpoints: EndpointDoc[];
  /** Absent on documents written before it existed. */
  replicaStates?: ReplicaStateDoc[];
  generation: number;
  observedGeneration: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  live?: true;
  events: ServiceEventDoc[];
}

const eventSchema = new Schema<ServiceEventDoc>(
  {
    type: { type: String, required: true },
    status: { type: String, required: true },
    reason: { type: String, default: null },
    params: { type: Schema.Types.Mixed, default: null },
    message: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { _id: false, versionKey: false, minimize: false },
);

/** `maxInFlight` is absent for a replica that does not batch (and on documents written before it existed). */
export interface EndpointDoc {
  replicaId: string;
  url: string;
  maxInFlight?: number;
}

const endpointSchema = new Schema<EndpointDoc>(
  { replicaId: { type: String, required: true }, url: { type: String, required: true }, maxInFlight: { type: Number, required: false } },
  { _id: false, versionKey: false },
);

export interface ReplicaStateDoc {
  replicaId: string;
  generation: number;
  state: string;
  restarts: number;
  device: string | null;
  message: string | null;
}

const replicaStateSchema = new Schema<ReplicaStateDoc>(
  {
    replicaId: { type: String, required: true },
    generation: { type: Number, required: true },
    state: { type: String, required: true },
    restarts: { type: Number, required: true },
    device: { type: String, default: null },
    message: { type: String, default: null },
  },
  { _id: false, versionKey: false },
);

const serviceSchema = new Schema<ServiceDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: Number, required: true },
    name: { type: String, required: true },
    nameKey: { type: String, required: true },
    description: { type: String, default: '' },
    modelId: { type: Number, required: true },
    modelVersion: { type: String, required: true },
    framework: { type: String, required: true },
    cpu: { type: Number, required: true },
    memory: { type: Number, required: true },
    gpu: { type: Number, required: true },
    replicas: { type: Number, required: true },
    desiredState: { type: String, required: true },
    status: { type: String, required: true },
    statusReason: { type: String, default: null },
    statusParams: { type: Schema.Types.Mixed, default: null },
    statusMessage: { type: String, default: null },
    readyReplicas: { type: Number, required: true },
    endpoints: { type: [endpointSchema], default: [] },
    replicaStates: { type: [replicaStateSchema], default: [] },
    generation: { type: Number, required: true },
    observedGeneration: { type: Number, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    deletedAt: { type: Date, default: null },
    live: { type: Boolean },
    events: { type: [eventSchema], default: [] },
  },
  options,
);
serviceSchema.index({ workspaceId: 1, nameKey: 1 }, { name: 'live_name_unique', unique: true, partialFilterExpression: LIVE });
serviceSchema.index({ createdAt: -1, _id: -1 }, { name: 'live_newest', partialFilterExpression: LIVE });
serviceSchema.index({ workspaceId: 1, createdAt: -1, _id: -1 }, { name: 'live_workspace_newest', partialFilterExpression: LIVE });
serviceSchema.index({ status: 1, createdAt: -1, _id: -1 }, { name: 'live_status_newest', partialFilterExpression: LIVE });
serviceSchema.index({ modelId: 1, modelVersion: 1 }, { name: 'live_model', partialFilterExpression: LIVE });
// The reconciler reads every service, deleted ones included, oldest first.
serviceSchema.index({ createdAt: 1, _id: 1 }, { name: 'all_oldest' });

export interface IdempotencyKeyDoc {
  scope: string;
  key: string;
  requestHash: string;
  /** The service this key creates: claimed before the service is written, so a retry finishes the same one. */
  serviceId: string;
  /** Set once the service document exists; a key without it whose service is missing is an interrupted create. */
  done: boolean;
  createdAt: Date;
}

const idempotencyKeySchema = new Schema<IdempotencyKeyDoc>(
  {
    scope: { type: String, required: true },
    key: { type: String, required: true },
    requestHash: { type: String, required: true },
    serviceId: { type: String, required: true },
    done: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
  },
  options,
);
idempotencyKeySchema.index({ scope: 1, key: 1 }, { name: 'scope_key_unique', unique: true });
idempotencyKeySchema.index({ createdAt: 1 }, { name: 'expire_after_24h', expireAfterSeconds: IDEMPOTENCY_TTL_SECONDS });

export interface ModelDoc {
  _id: number;
  workspaceId: number;
  name: string;
  nameKey: string;
  framework: string;
  task: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

const modelSchema = new Schema<ModelDoc>(
  {
    _id: { type: Number, required: true },
    workspaceId: { type: Number, required: true },
    name: { type: String, required: true },
    nameKey: { type: String, required: true },
    framework: { type: String, required: true },
    task: { type: String, required: true },
    description: { type: String, default: '' },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  options,
);
modelSchema.index({ workspaceId: 1, nameKey: 1 }, { name: 'workspace_name_unique', unique: true });
modelSchema.index({ createdAt: -1, _id: -1 }, { name: 'newest' });
modelSchema.index({ workspaceId: 1, createdAt: -1, _id: -1 }, { name: 'workspace_newest' });

/**
 * A model version as written: every field of core's ModelVersion (the schema names the ones the store queries or
 * casts; `strict: false` keeps fields added to ModelVersion later without a change here), `createdAt` a Date.
 */
const modelVersionSchema = new Schema(
  {
    modelId: { type: Number, required: true },
    version: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { ...options, strict: false },
);
modelVersionSchema.index({ modelId: 1, version: 1 }, { name: 'model_version_unique', unique: true });

const counterSchema = new Schema<{ _id: string; seq: number }>({ _id: { type: String, required: true }, seq: { type: Number, required: true } }, options);
const metaSchema = new Schema<{ _id: string; version: number }>({ _id: { type: String, required: true }, version: { type: Number, required: true } }, options);

export interface MongoModels {
  services: Model<ServiceDoc>;
  idempotencyKeys: Model<IdempotencyKeyDoc>;
  models: Model<ModelDoc>;
  modelVersions: Model<Record<string, unknown>>;
  counters: Model<{ _id: string; seq: number }>;
  meta: Model<{ _id: string; version: number }>;
}

/** The models on one connection (never mongoose's global default connection). */
export function modelsOn(connection: Connection): MongoModels {
  return {
    services: connection.model<ServiceDoc>('Service', serviceSchema, 'services'),
    idempotencyKeys: connection.model<IdempotencyKeyDoc>('IdempotencyKey', idempotencyKeySchema, 'idempotency_keys'),
    models: connection.model<ModelDoc>('Model', modelSchema, 'models'),
    modelVersions: connection.model<Record<string, unknown>>('ModelVersion', modelVersionSchema, 'model_versions'),
    counters: connection.model<{ _id: string; seq: number }>('Counter', counterSchema, 'counters'),
    meta: connection.model<{ _id: string; version: number }>('StoreMeta', metaSchema, 'store_meta'),
  };
}
