import { FIELD_SCHEMAS, LIMITS, REQUEST_SCHEMAS, SERVICE_EVENT_TYPES, SERVICE_STATUSES, type JsonSchema } from '@remotegpu/core';

/**
 * The response shapes of the REST routes (the seed's snake_case DTOs of rest/*.mapper.ts), as OpenAPI 3.1
 * components. Bounds and enums come from core, the same constants the requests are validated with; objects are
 * closed (`additionalProperties: false`) so the contract test fails when a mapper grows a field the document does
 * not name. Request bodies are core's REQUEST_SCHEMAS, not restated here.
 */

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
const nullableText: JsonSchema = { type: ['string', 'null'] };

function closed(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

/** The seed's success envelope `{code: 0, message, data}` around one shape (no `data` when none is given). */
export function envelopeOf(data?: JsonSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    code: { const: 0, description: '0 on success.' },
    message: { type: 'string', description: "Human-readable, in the request's language (Accept-Language: zh or en)." },
  };
  if (data) properties.data = data;
  return closed(properties);
}

const serviceId: JsonSchema = { type: 'string', pattern: '^svc-[a-z0-9]{16}$', description: 'svc- and 16 lowercase letters or digits.' };
const status: JsonSchema = { type: 'string', enum: [...SERVICE_STATUSES] };
const replicas: JsonSchema = { type: 'integer', minimum: 0, maximum: LIMITS.replicasMax, description: 'Desired replicas (0 once stopped).' };

const serviceCreated = {
  service_id: serviceId,
  name: FIELD_SCHEMAS.name,
  status,
  created_at: timestamp,
};
const serviceSummary = {
  ...serviceCreated,
  endpoint_url: { type: 'string', description: 'The data-plane URL: POST {endpoint_url}/predict, or the v2 routes under it.' },
  replicas,
};

const tensor = closed({ name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } });

const model = {
  model_id: FIELD_SCHEMAS.id,
  name: FIELD_SCHEMAS.name,
  workspace_id: FIELD_SCHEMAS.id,
  framework: FIELD_SCHEMAS.framework,
  task: FIELD_SCHEMAS.task,
  description: FIELD_SCHEMAS.description,
  created_at: timestamp,
  updated_at: timestamp,
};

/** Every component of the document, by name. */
export const COMPONENT_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  ...REQUEST_SCHEMAS,
  ErrorEnvelope: {
    ...closed(
      {
        code: { type: 'integer', description: 'A stable error code: the HTTP status times 100 (40000 invalid input, 40100, 40400, 40900, …).' },
        message: { type: 'string' },
        data: closed({ errors: { type: 'array', items: ref('FieldError') } }),
      },
      ['data'],
    ),
    description: 'Every error answer. `data.errors` lists field problems of a 400.',
  },
  FieldError: closed({ field: { type: 'string', description: 'The request field, e.g. `replicas` or `inputs.image`.' }, message: { type: 'string' } }),
  Pagination: closed({
    page: { type: 'integer', minimum: 1 },
    page_size: { type: 'integer', minimum: 1, maximum: LIMITS.pageSizeMax },
    total: { type: 'integer', minimum: 0 },
    total_pages: { type: 'integer', minimum: 0 },
  }),
  ServiceCreated: closed(serviceCreated),
  ServiceSummary: closed(serviceSummary),
  ServiceDetail: closed({
    ...serviceSummary,
    description: FIELD_SCHEMAS.description,
    model_id: FIELD_SCHEMAS.id,
    model_version: FIELD_SCHEMAS.version,
    framework: FIELD_SCHEMAS.framework,
    cpu: { type: 'number', minimum: LIMITS.cpuMin, maximum: LIMITS.cpuMax },
    memory: FIELD_SCHEMAS.memory,
    gpu: FIELD_SCHEMAS.gpu,
    workspace_id: FIELD_SCHEMAS.id,
    ready_replicas: { type: 'integer', minimum: 0 },
    status_reason: { ...nullableText, description: 'A stable, machine-readable reason code (e.g. gpu_request_exceeds_capacity), or null.' },
    status_message: { ...nullableText, description: "The reason worded in the request's language." },
    updated_at: timestamp,
    replica_states: {
      type: 'array',
      items: ref('ReplicaState'),
      description: 'Each replica as the provisioner last saw it (any generation during a rollout), sorted by id; at most 64.',
    },
  }),
  ReplicaState: closed({
    replica_id: { type: 'string' },
    generation: { type: 'integer', minimum: 0 },
    state: { type: 'string', enum: ['pending', 'starting', 'ready', 'restarting', 'terminating'] },
    restarts: { type: 'integer', minimum: 0 },
    device: { ...nullableText, description: 'Execution provider the replica reports (`cpu`, `cuda`), once known.' },
    message: nullableText,
  }),
  ServicePage: closed({ items: { type: 'array', items: ref('ServiceSummary') }, pagination: ref('Pagination') }),
  ServiceEvent: closed({
    type: { type: 'string', enum: [...SERVICE_EVENT_TYPES] },
    status,
    reason: nullableText,
    message: nullableText,
    at: timestamp,
  }),
  ServiceEventList: closed({ items: { type: 'array', items: ref('ServiceEvent') } }),
  Prediction: closed({ class: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } }),
  PredictResponse: closed({ predictions: { type: 'array', items: ref('Prediction') } }),
  TensorSpec: tensor,
  LogLine: closed({
    replica: { type: 'string' },
    at: timestamp,
    stream: { type: 'string', enum: ['stdout', 'stderr'] },
    line: { type: 'string' },
  }),
  LogLineList: closed({ items: { type: 'array', items: ref('LogLine') } }),
  Model: closed(model),
  ModelVersion: closed({
    model_id: FIELD_SCHEMAS.id,
    version: FIELD_SCHEMAS.version,
    format: { type: 'string', enum: ['onnx'] },
    size_bytes: { type: 'integer', minimum: 0 },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    inputs: { type: 'array', items: ref('TensorSpec') },
    outputs: { type: 'array', items: ref('TensorSpec') },
    labels: FIELD_SCHEMAS.labels,
    preprocessing: FIELD_SCHEMAS.preprocessing,
    batching: FIELD_SCHEMAS.batching,
    created_at: timestamp,
  }),
  ModelDetail: closed({ ...model, versions: { type: 'array', items: ref('ModelVersion') } }),
  ModelPage: closed({ items: { type: 'array', items: ref('Model') }, pagination: ref('Pagination') }),
  Health: closed({ status: { type: 'string', enum: ['ok', 'ready', 'not_ready'] } }),
  ApiIndex: closed({ name: { type: 'string' }, links: { type: 'object', additionalProperties: { type: 'string' } } }),
  ApiV1Index: closed({ links: { type: 'object', additionalProperties: { type: 'string' } } }),
};

export { ref };
