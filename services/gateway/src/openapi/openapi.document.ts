import { QUERY_PARAMETERS, type JsonSchema } from '@remotegpu/core';
import { LOG_TAIL_DEFAULT, LOG_TAIL_MAX } from '../application/logs.use-case.js';
import { COMPONENT_SCHEMAS, envelopeOf, ref } from './openapi.schemas.js';

/**
 * The OpenAPI 3.1 document of the REST surface, built once from core's request tables and the response
 * components. Each operation below names a route that rest/* mounts; the contract test walks the Express router
 * and fails for a route (or method) missing here, and validates the seed routes' real answers against the
 * schemas referenced here.
 */

type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

interface Operation {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** false: no token (the probes, the index, this document). Default: the user's bearer token. */
  auth?: false | 'artifact';
  query?: readonly { name: string; schema: JsonSchema }[];
  /** Component names of the body, by media type. */
  body?: Record<string, string>;
  /** Status → component name of the `data` in the success envelope, `null` for an envelope without data, or a raw response. */
  ok: Record<number, string | null | { raw: string; schema?: JsonSchema; description: string; more?: Record<string, JsonSchema> }>;
  errors?: readonly number[];
  idempotent?: boolean;
}

const SERVICE = '/api/v1/inference/services/{id}';

/** The logs route's query (application/logs.use-case.ts parseLogQuery reads these; bounds are its constants). */
const LOG_QUERY = [
  { name: 'replica', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$', description: 'Only this replica of the service.' } },
  { name: 'tail', schema: { type: 'integer', minimum: 1, maximum: LOG_TAIL_MAX, default: LOG_TAIL_DEFAULT, description: 'The last lines to answer (before following).' } },
  { name: 'since', schema: { type: 'string', description: 'An RFC 3339 time, or a duration back from now such as 90s, 10m, 2h.' } },
  { name: 'follow', schema: { type: 'boolean', default: false, description: 'true: keep the response open as text/event-stream.' } },
] as const;
const MODEL = '/api/v1/models/{model_id}';

const OPERATIONS: readonly Operation[] = [
  { method: 'get', path: '/', operationId: 'index', summary: 'Entry points (no token)', tag: 'Meta', auth: false, ok: { 200: { raw: 'application/json', schema: ref('ApiIndex'), description: 'Links to the entry points.' } } },
  { method: 'get', path: '/healthz', operationId: 'healthz', summary: 'Liveness', tag: 'Meta', auth: false, ok: { 200: { raw: 'application/json', schema: ref('Health'), description: 'The process is alive.' } } },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness (store and bus reachable)',
    tag: 'Meta',
    auth: false,
    ok: { 200: { raw: 'application/json', schema: ref('Health'), description: 'Ready.' }, 503: { raw: 'application/json', schema: ref('Health'), description: 'Not ready.' } },
  },
  { method: 'get', path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics', tag: 'Meta', auth: false, ok: { 200: { raw: 'text/plain', schema: { type: 'string' }, description: 'Prometheus text exposition format.' } } },
  { method: 'get', path: '/api/v1/openapi.json', operationId: 'openapi', summary: 'This document (no token)', tag: 'Meta', auth: false, ok: { 200: { raw: 'application/json', schema: { type: 'object' }, description: 'OpenAPI 3.1.' } } },
  { method: 'get', path: '/api/v1', operationId: 'apiIndex', summary: 'REST entry points', tag: 'Meta', ok: { 200: { raw: 'application/json', schema: ref('ApiV1Index'), description: 'Links to the REST collections.' } }, errors: [401] },
  {
    method: 'post',
    path: '/api/v1/inference/services',
    operationId: 'createService',
    summary: 'Create an inference service',
    tag: 'Inference services',
    body: { 'application/json': 'CreateServiceRequest' },
    ok: { 201: 'ServiceCreated' },
    errors: [400, 401, 403, 404, 409, 415, 422, 429],
    idempotent: true,
  },
  {
    method: 'get',
    path: '/api/v1/inference/services',
    operationId: 'listServices',
    summary: 'List inference services',
    tag: 'Inference services',
    query: QUERY_PARAMETERS.serviceList,
    ok: { 200: 'ServicePage' },
    errors: [400, 401, 403],
  },
  { method: 'get', path: SERVICE, operationId: 'getService', summary: 'Get an inference service', tag: 'Inference services', ok: { 200: 'ServiceDetail' }, errors: [401, 404] },
  {
    method: 'patch',
    path: SERVICE,
    operationId: 'updateService',
    summary: 'Scale or update an inference service',
    tag: 'Inference services',
    body: { 'application/json': 'UpdateServiceRequest' },
    ok: { 200: 'ServiceDetail' },
    errors: [400, 401, 404, 409, 415, 422],
  },
  { method: 'delete', path: SERVICE, operationId: 'deleteService', summary: 'Delete an inference service', tag: 'Inference services', ok: { 204: { raw: '', description: 'Deleted (replicas are being removed).' } }, errors: [401, 404] },
  { method: 'post', path: `${SERVICE}/stop`, operationId: 'stopService', summary: 'Stop (scale to zero, keep the spec)', tag: 'Inference services', ok: { 200: null }, errors: [401, 404, 409] },
  { method: 'post', path: `${SERVICE}/start`, operationId: 'startService', summary: 'Start a stopped service', tag: 'Inference services', ok: { 200: 'ServiceDetail' }, errors: [401, 404, 409] },
  { method: 'get', path: `${SERVICE}/events`, operationId: 'listServiceEvents', summary: "A service's lifecycle events", tag: 'Inference services', ok: { 200: 'ServiceEventList' }, errors: [401, 404] },
  {
    method: 'post',
    path: `${SERVICE}/predict`,
    operationId: 'predict',
    summary: 'Classify an image through the gateway',
    tag: 'Inference services',
    body: { 'application/json': 'PredictRequest' },
    ok: { 200: 'PredictResponse' },
    errors: [400, 401, 404, 409, 413, 415, 422, 429, 502, 503, 504],
  },
  {
    method: 'get',
    path: `${SERVICE}/logs`,
    operationId: 'serviceLogs',
    summary: "The replicas' log lines; follow=true streams them (server-sent events)",
    tag: 'Inference services',
    query: LOG_QUERY,
    ok: {
      200: {
        raw: 'application/json',
        schema: envelopeOf(ref('LogLineList')),
        description: 'The lines, oldest first. With follow=true: text/event-stream, the tail then each new line as `event: log` whose data is a LogLine, and a heartbeat comment every 15 s.',
        more: { 'text/event-stream': { type: 'string', description: 'Server-sent events: `event: log` / `data: <LogLine JSON>`.' } },
      },
    },
    errors: [400, 401, 404, 503],
  },
  { method: 'post', path: '/api/v1/models', operationId: 'createModel', summary: 'Register a model', tag: 'Models', body: { 'application/json': 'CreateModelRequest' }, ok: { 201: 'Model' }, errors: [400, 401, 403, 409, 415] },
  { method: 'get', path: '/api/v1/models', operationId: 'listModels', summary: 'List models', tag: 'Models', query: QUERY_PARAMETERS.modelList, ok: { 200: 'ModelPage' }, errors: [400, 401, 403] },
  { method: 'get', path: MODEL, operationId: 'getModel', summary: 'Get a model and its versions', tag: 'Models', ok: { 200: 'ModelDetail' }, errors: [401, 404] },
  {
    method: 'post',
    path: `${MODEL}/versions`,
    operationId: 'createModelVersion',
    summary: 'Upload a model version (multipart file) or register one by URI (JSON)',
    tag: 'Models',
    body: { 'multipart/form-data': 'CreateModelVersionForm', 'application/json': 'CreateModelVersionRequest' },
    ok: { 201: 'ModelVersion' },
    errors: [400, 401, 404, 409, 413, 422],
  },
  {
    method: 'delete',
    path: MODEL,
    operationId: 'deleteModel',
    summary: 'Delete a model, its versions and their artifacts',
    tag: 'Models',
    ok: { 204: { raw: '', description: 'Deleted.' } },
    errors: [401, 404, 409],
  },
  {
    method: 'patch',
    path: `${MODEL}/versions/{version}`,
    operationId: 'updateModelVersion',
    summary: "Change a model version's dynamic batching",
    tag: 'Models',
    body: { 'application/json': 'UpdateModelVersionRequest' },
    ok: { 200: 'ModelVersion' },
    errors: [400, 401, 404, 415, 422],
  },
  {
    method: 'delete',
    path: `${MODEL}/versions/{version}`,
    operationId: 'deleteModelVersion',
    summary: 'Delete a model version and its artifact',
    tag: 'Models',
    ok: { 204: { raw: '', description: 'Deleted.' } },
    errors: [401, 404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/artifacts/{model_id}/{version}',
    operationId: 'downloadArtifact',
    summary: "A model version's bytes, for replicas (artifact tokens only)",
    tag: 'Artifacts',
    auth: 'artifact',
    ok: { 200: { raw: 'application/octet-stream', schema: { type: 'string', contentMediaType: 'application/octet-stream' }, description: 'The artifact; ETag and X-Checksum-Sha256 carry its sha256.' } },
    errors: [401, 404],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input: `data.errors` names each field.',
  401: 'No token, or an invalid or expired one.',
  403: 'The token does not grant that workspace.',
  404: 'Not found (also objects of workspaces the token does not grant).',
  409: 'Conflicts with the current state (e.g. a model still used by a live service: model_in_use).',
  413: 'The body is too large.',
  415: 'The content type is not one this route takes.',
  422: 'Well-formed but unusable (e.g. a model the server cannot run).',
  429: 'Too many requests: retry after `Retry-After`.',
  502: 'The model server answered badly.',
  503: 'No ready replica, or the platform is not ready: retry after `Retry-After`.',
  504: 'The model server did not answer in time.',
};

const pathParameter = (name: string): JsonSchema => ({
  name,
  in: 'path',
  required: true,
  schema: name === 'id' ? { type: 'string', pattern: '^svc-[a-z0-9]{16}$' } : name === 'model_id' ? { type: 'integer', minimum: 1 } : { type: 'string' },
});

function operationObject(op: Operation): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [code, answer] of Object.entries(op.ok)) {
    if (answer === null) responses[code] = { description: 'Done.', content: { 'application/json': { schema: envelopeOf() } } };
    else if (typeof answer === 'string') responses[code] = { description: 'Success.', content: { 'application/json': { schema: envelopeOf(ref(answer)) } } };
    else if (!answer.raw) responses[code] = { description: answer.description };
    else {
      const content: Record<string, JsonSchema> = { [answer.raw]: { schema: answer.schema ?? {} } };
      for (const [type, schema] of Object.entries(answer.more ?? {})) content[type] = { schema };
      responses[code] = { description: answer.description, content };
    }
  }
  for (const code of op.errors ?? []) responses[String(code)] = { $ref: `#/components/responses/Error${code}` };
  responses.default = { $ref: '#/components/responses/Error' };
  const parameters: JsonSchema[] = [...op.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => pathParameter(m[1]!));
  for (const q of op.query ?? []) parameters.push({ name: q.name, in: 'query', required: false, schema: q.schema });
  parameters.push({ $ref: '#/components/parameters/AcceptLanguage' });
  if (op.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  const out: JsonSchema = { operationId: op.operationId, summary: op.summary, tags: [op.tag], parameters, responses };
  if (op.body) {
    const content: Record<string, JsonSchema> = {};
    for (const [type, name] of Object.entries(op.body)) content[type] = { schema: ref(name) };
    out.requestBody = { required: true, content };
  }
  if (op.auth === false) out.security = [];
  else if (op.auth === 'artifact') out.security = [{ artifactToken: [] }];
  return out;
}

export interface OpenApiDocumentOptions {
  /** The platform's public URL (RGPU_PUBLIC_URL), listed as the server. */
  publicUrl: string;
  version: string;
}

/** The whole document. Pure: built once at start-up and served as it is. */
export function buildOpenApiDocument(options: OpenApiDocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  const errorResponses: Record<string, JsonSchema> = {
    Error: { description: 'An error.', content: { 'application/json': { schema: ref('ErrorEnvelope') } } },
  };
  for (const [code, text] of Object.entries(ERROR_TEXT)) {
    errorResponses[`Error${code}`] = { description: text, content: { 'application/json': { schema: ref('ErrorEnvelope') } } };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'RemoteGPU Inference',
      version: options.version,
      summary: 'Control plane for GPU inference services: the seed REST API and its additions.',
      description:
        'Every route but the probes, `/metrics`, `/` and this document takes a bearer token (a JWT; `npm run token` mints one). ' +
        "Answers are `{code, message, data}` envelopes with messages in the request's language (`Accept-Language: zh` by default, or `en`). " +
        'GraphQL is served at `/graphql` (an explorer opens there in a browser); the data plane is at `/inference/{service_id}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative first: "Try it out" on /docs then calls the origin the page was opened on, whatever name the user
    // typed (the pages' CSP allows only that origin). The public URL follows for clients generated from the file.
    servers: [
      { url: '/', description: 'The platform that served this document' },
      ...(options.publicUrl ? [{ url: options.publicUrl.replace(/\/+$/, ''), description: 'RGPU_PUBLIC_URL (endpoint_url is built on it)' }] : []),
    ],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'Inference services', description: 'Create, scale, stop, start, delete and call inference services.' },
      { name: 'Models', description: 'The model registry: models and their versions (ONNX artifacts).' },
      { name: 'Artifacts', description: 'Model bytes for replicas; takes only artifact tokens the platform mints.' },
      { name: 'Meta', description: 'Entry points, probes, metrics and this document.' },
    ],
    paths,
    components: {
      schemas: COMPONENT_SCHEMAS,
      responses: errorResponses,
      parameters: {
        AcceptLanguage: { name: 'Accept-Language', in: 'header', required: false, schema: { type: 'string', default: 'zh' }, description: 'zh (default) or en: the language of messages.' },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', maxLength: 255 },
          description: 'A retried create with the same key and body answers the first result (Idempotent-Replayed: true) instead of creating twice.',
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token: `sub` and the `workspaces` it grants (or `admin`).' },
        artifactToken: { type: 'http', scheme: 'bearer', description: 'An artifact token minted by the platform for one replica start and one artifact.' },
      },
    },
  };
}

/** Method and path of every documented operation (for the contract test and for 405 answers' consistency). */
export function documentedOperations(): { method: string; path: string }[] {
  return OPERATIONS.map((op) => ({ method: op.method.toUpperCase(), path: op.path }));
}
