import { errors, type FieldError, type Localized } from './errors.js';
import { FRAMEWORKS, SERVICE_STATUSES, type Framework, type ServiceStatus } from './service.js';
import { MODEL_TASKS, type ModelTask, type Preprocessing } from './model.js';
import { BATCHING_LIMITS, parseBatching, type BatchingConfig } from './batching.js';

/**
 * Input validation with field-level messages. Bounds (documented in README "Limits"):
 * - name: 1–64 characters after trimming; letters, digits, spaces, `.`, `_`, `-`; starts with a letter or digit
 * - description: at most 1000 characters
 * - workspace_id, model_id: integers 1 … 2^31−1
 * - model_version / version: 1–64 characters of `A-Z a-z 0-9 . _ + -`, starting with a letter or digit
 * - framework: one of FRAMEWORKS
 * - cpu: cores per replica, 0.1 … 128 in steps of 0.001 (millicores, like Kubernetes)
 * - memory: bytes per replica, an integer from 128 MiB to 1 TiB
 * - gpu: whole GPUs per replica, 0 … 16
 * - replicas: 1 … 32 (stopping a service is how it runs zero replicas)
 * Unknown fields are ignored, as the seed platform does.
 */
export const LIMITS = {
  nameMax: 64,
  descriptionMax: 1000,
  idMax: 2_147_483_647,
  versionMax: 64,
  cpuMin: 0.1,
  cpuMax: 128,
  memoryMin: 128 * 1024 * 1024,
  memoryMax: 1024 ** 4,
  gpuMax: 16,
  replicasMin: 1,
  replicasMax: 32,
  pageSizeDefault: 20,
  pageSizeMax: 100,
  labelsMax: 100_000,
  labelMax: 256,
} as const;

export const DEFAULTS = {
  description: '',
  cpu: 1,
  memory: 2 * 1024 ** 3,
  gpu: 0,
  replicas: 1,
} as const;

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u;
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) fragment. Every rule below carries the schema of what
 * it accepts, and every request shape is a table of rules: the parse functions check with the tables and the
 * gateway's OpenAPI document is built from the same tables (`REQUEST_SCHEMAS`, `QUERY_PARAMETERS`), so the two
 * cannot drift apart.
 */
export type JsonSchema = { [keyword: string]: unknown };

type Check<T> = (value: unknown) => { ok: true; value: T } | { ok: false; message: Localized };
type Rule<T> = Check<T> & { readonly schema: JsonSchema };

const rule = <T>(schema: JsonSchema, check: Check<T>): Rule<T> => Object.assign(check, { schema });

const ok = <T>(value: T) => ({ ok: true as const, value });
const fail = (zh: string, en: string) => ({ ok: false as const, message: { zh, en } });

const integer = (min: number, max: number): Rule<number> =>
  rule({ type: 'integer', minimum: min, maximum: max }, (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
      ? ok(v)
      : fail(`必须是 ${min} 到 ${max} 之间的整数`, `must be an integer from ${min} to ${max}`),
  );

const nameSchema: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.nameMax,
  pattern: NAME_PATTERN.source,
  description: 'Letters, digits, spaces, ".", "_" and "-", starting with a letter or digit; leading and trailing spaces are trimmed first.',
};

const name: Rule<string> = rule(nameSchema, (v) => {
  if (typeof v !== 'string') return fail('必须是字符串', 'must be a string');
  const t = v.trim();
  if (t.length < 1 || t.length > LIMITS.nameMax)
    return fail(`长度必须为 1 到 ${LIMITS.nameMax} 个字符`, `must be 1 to ${LIMITS.nameMax} characters long`);
  if (!NAME_PATTERN.test(t))
    return fail(
      '只能包含字母、数字、空格、点、下划线和连字符，且以字母或数字开头',
      'may only contain letters, digits, spaces, ".", "_" and "-", and must start with a letter or digit',
    );
  return ok(t);
});

const description: Rule<string> = rule({ type: 'string', maxLength: LIMITS.descriptionMax }, (v) =>
  typeof v === 'string' && v.length <= LIMITS.descriptionMax
    ? ok(v)
    : fail(`必须是不超过 ${LIMITS.descriptionMax} 个字符的字符串`, `must be a string of at most ${LIMITS.descriptionMax} characters`),
);

const version: Rule<string> = rule({ type: 'string', minLength: 1, maxLength: LIMITS.versionMax, pattern: VERSION_PATTERN.source }, (v) =>
  typeof v === 'string' && v.length >= 1 && v.length <= LIMITS.versionMax && VERSION_PATTERN.test(v)
    ? ok(v)
    : fail(
        `必须是 1 到 ${LIMITS.versionMax} 个字符（字母、数字、. _ + -），以字母或数字开头`,
        `must be 1 to ${LIMITS.versionMax} characters of letters, digits, ".", "_", "+", "-", starting with a letter or digit`,
      ),
);

const oneOf = <T extends string>(allowed: readonly T[]): Rule<T> =>
  rule({ type: 'string', enum: [...allowed] }, (v) =>
    typeof v === 'string' && (allowed as readonly string[]).includes(v)
      ? ok(v as T)
      : fail(`必须是以下之一: ${allowed.join(', ')}`, `must be one of: ${allowed.join(', ')}`),
  );

const cpu: Rule<number> = rule(
  { type: 'number', minimum: LIMITS.cpuMin, maximum: LIMITS.cpuMax, multipleOf: 0.001, description: 'CPU cores per replica (millicore steps, like Kubernetes).' },
  (v) =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    v >= LIMITS.cpuMin &&
    v <= LIMITS.cpuMax &&
    Math.abs(Math.round(v * 1000) - v * 1000) < 1e-6
      ? ok(Math.round(v * 1000) / 1000)
      : fail(
          `必须是 ${LIMITS.cpuMin} 到 ${LIMITS.cpuMax} 之间的核数，精度 0.001`,
          `must be a number of cores from ${LIMITS.cpuMin} to ${LIMITS.cpuMax}, in steps of 0.001`,
        ),
);

const memory: Rule<number> = rule(
  { type: 'integer', minimum: LIMITS.memoryMin, maximum: LIMITS.memoryMax, description: 'Bytes of memory per replica (128 MiB to 1 TiB).' },
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= LIMITS.memoryMin && v <= LIMITS.memoryMax
      ? ok(v)
      : fail(
          `必须是以字节为单位的整数，范围 ${LIMITS.memoryMin}（128 MiB）到 ${LIMITS.memoryMax}（1 TiB）`,
          `must be an integer number of bytes from ${LIMITS.memoryMin} (128 MiB) to ${LIMITS.memoryMax} (1 TiB)`,
        ),
);

const labels: Rule<string[]> = rule(
  {
    type: 'array',
    minItems: 1,
    maxItems: LIMITS.labelsMax,
    items: { type: 'string', minLength: 1, maxLength: LIMITS.labelMax },
    description: 'One class name per model output, in output order.',
  },
  (v) =>
    Array.isArray(v) &&
    v.length >= 1 &&
    v.length <= LIMITS.labelsMax &&
    v.every((l) => typeof l === 'string' && l.length >= 1 && l.length <= LIMITS.labelMax)
      ? ok(v as string[])
      : fail(
          `必须是非空字符串数组（每个输出类别一个，至多 ${LIMITS.labelsMax} 个）`,
          `must be a non-empty array of non-empty strings, one per output class (at most ${LIMITS.labelsMax})`,
        ),
);

const numbers = (v: unknown, length: number): v is number[] =>
  Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number');

/**
 * The shape of `preprocessing`: `{mean?: [r,g,b], std?: [r,g,b], size?: [height, width]}` (400 when not). Whether
 * the values are usable — finite, within bounds, a size the model takes — is `imageClassifierSignature`'s call
 * (422), since part of it depends on the model. Absent mean/std mean no normalization ([0,0,0] / [1,1,1]).
 */
export function parsePreprocessing(v: unknown): { ok: true; value: Preprocessing | null } | { ok: false; message: Localized } {
  if (v === null) return ok(null);
  const bad = fail(
    '必须是 {"mean":[r,g,b],"std":[r,g,b],"size":[高度,宽度]}（各项可选）',
    'must be {"mean":[r,g,b],"std":[r,g,b],"size":[height,width]} (each optional)',
  );
  if (typeof v !== 'object' || Array.isArray(v)) return bad;
  const { mean, std, size } = v as Record<string, unknown>;
  if ((mean !== undefined && !numbers(mean, 3)) || (std !== undefined && !numbers(std, 3)) || (size !== undefined && !numbers(size, 2))) return bad;
  const value: Preprocessing = {
    mean: (mean as Preprocessing['mean'] | undefined) ?? [0, 0, 0],
    std: (std as Preprocessing['std'] | undefined) ?? [1, 1, 1],
  };
  if (size !== undefined) value.size = size as [number, number];
  return ok(value);
}

const triple = { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 };
const preprocessing: Rule<Preprocessing | null> = rule(
  {
    type: ['object', 'null'],
    properties: {
      mean: { ...triple, description: 'Per-channel mean [r, g, b] subtracted after scaling pixels to 0…1 (default [0, 0, 0]).' },
      std: { ...triple, description: 'Per-channel standard deviation [r, g, b] (default [1, 1, 1]).' },
      size: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, description: '[height, width], for models whose input size is open.' },
    },
    description: 'How images are turned into the model input; null: the model server defaults.',
  },
  parsePreprocessing,
);

const uri: Rule<string> = rule({ type: 'string', minLength: 1, maxLength: 2048, description: 'Where the artifact is fetched from (README "Model delivery").' }, (v) =>
  typeof v === 'string' && v.length >= 1 && v.length <= 2048
    ? ok(v)
    : fail('必须是不超过 2048 个字符的 URI', 'must be a URI of at most 2048 characters'),
);

/** One field of a request body: its rule, whether it must be present, and the value taken when it is absent. */
interface Field<T> {
  rule: Rule<T>;
  required: boolean;
  fallback?: T;
}
type FieldTable = Record<string, Field<unknown>>;
type ValuesOf<F extends FieldTable> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

const required = <T>(r: Rule<T>): Field<T> => ({ rule: r, required: true });
function optional<T>(r: Rule<T>, fallback: T): Field<T>;
function optional<T>(r: Rule<T>): Field<T | undefined>;
function optional<T>(r: Rule<T>, fallback?: T): Field<T | undefined> {
  return { rule: r, required: false, fallback };
}

/** The JSON Schema of a body described by a table. Unknown fields are ignored, so none is forbidden. */
function tableSchema(table: FieldTable, extra: JsonSchema = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [field, spec] of Object.entries(table)) {
    properties[field] = spec.fallback === undefined ? spec.rule.schema : { ...spec.rule.schema, default: spec.fallback };
  }
  const needed = Object.entries(table).filter(([, spec]) => spec.required).map(([field]) => field);
  return { type: 'object', properties, ...(needed.length ? { required: needed } : {}), ...extra };
}

/** Collects field errors over a whole object so a client learns every problem at once. */
class Checker {
  readonly problems: FieldError[] = [];
  constructor(private readonly body: Record<string, unknown>) {}

  required<T>(field: string, rule: Rule<T>): T {
    if (this.problems.some((p) => p.field === field)) return undefined as T; // already reported
    const v = this.body[field];
    if (v === undefined || v === null) {
      this.problems.push({ field, message: { zh: '为必填项', en: 'is required' } });
      return undefined as T;
    }
    return this.check(field, rule, v);
  }

  optional<T>(field: string, rule: Rule<T>, fallback: T): T;
  optional<T>(field: string, rule: Rule<T>): T | undefined;
  optional<T>(field: string, rule: Rule<T>, fallback?: T): T | undefined {
    if (this.problems.some((p) => p.field === field)) return undefined;
    const v = this.body[field];
    if (v === undefined) return fallback;
    return this.check(field, rule, v);
  }

  /** Reads every field of a table, in its order (the order problems are reported in). */
  read<F extends FieldTable>(table: F): ValuesOf<F> {
    const out: Record<string, unknown> = {};
    for (const [field, spec] of Object.entries(table)) {
      out[field] = spec.required ? this.required(field, spec.rule) : this.optional(field, spec.rule, spec.fallback);
    }
    return out as ValuesOf<F>;
  }

  private check<T>(field: string, rule: Rule<T>, v: unknown): T {
    const r = rule(v);
    if (r.ok) return r.value;
    this.problems.push({ field, message: r.message });
    return undefined as T;
  }

  done(): void {
    if (this.problems.length) throw errors.invalidInput(this.problems);
  }
}

function objectBody(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw errors.invalidInput([{ field: 'body', message: { zh: '必须是 JSON 对象', en: 'must be a JSON object' } }]);
  }
  return input as Record<string, unknown>;
}

export interface CreateServiceInput {
  name: string;
  description: string;
  workspaceId: number;
  modelId: number;
  modelVersion: string;
  /** Absent: taken from the model. */
  framework?: Framework;
  cpu: number;
  memory: number;
  gpu: number;
  replicas: number;
}

const id = integer(1, LIMITS.idMax);
const gpu = rule({ ...integer(0, LIMITS.gpuMax).schema, description: 'Whole GPUs per replica.' }, integer(0, LIMITS.gpuMax));
const replicas = rule(
  { ...integer(LIMITS.replicasMin, LIMITS.replicasMax).schema, description: 'Replicas to run (stop a service to run none).' },
  integer(LIMITS.replicasMin, LIMITS.replicasMax),
);
const framework = rule({ ...oneOf(FRAMEWORKS).schema, description: "Absent: the model's framework." }, oneOf(FRAMEWORKS));

const CREATE_SERVICE = {
  name: required(name),
  description: optional(description, DEFAULTS.description),
  workspace_id: required(id),
  model_id: required(id),
  model_version: required(version),
  framework: optional(framework),
  cpu: optional(cpu, DEFAULTS.cpu as number),
  memory: optional(memory, DEFAULTS.memory as number),
  gpu: optional(gpu, DEFAULTS.gpu as number),
  replicas: optional(replicas, DEFAULTS.replicas as number),
};

/** Validates a create body in the seed's snake_case shape. */
export function parseCreateService(input: unknown): CreateServiceInput {
  const c = new Checker(objectBody(input));
  const v = c.read(CREATE_SERVICE);
  c.done();
  return {
    name: v.name,
    description: v.description,
    workspaceId: v.workspace_id,
    modelId: v.model_id,
    modelVersion: v.model_version,
    framework: v.framework,
    cpu: v.cpu,
    memory: v.memory,
    gpu: v.gpu,
    replicas: v.replicas,
  };
}

export interface UpdateServiceInput {
  description?: string;
  modelVersion?: string;
  cpu?: number;
  memory?: number;
  gpu?: number;
  replicas?: number;
}

const UPDATE_SERVICE = {
  description: optional(description),
  model_version: optional(version),
  cpu: optional(cpu),
  memory: optional(memory),
  gpu: optional(gpu),
  replicas: optional(replicas),
};
const IMMUTABLE_SERVICE_FIELDS = ['name', 'workspace_id', 'model_id', 'framework'] as const;

export function parseUpdateService(input: unknown): UpdateServiceInput {
  const body = objectBody(input);
  const c = new Checker(body);
  const v = c.read(UPDATE_SERVICE);
  const parsed: UpdateServiceInput = {
    description: v.description,
    modelVersion: v.model_version,
    cpu: v.cpu,
    memory: v.memory,
    gpu: v.gpu,
    replicas: v.replicas,
  };
  for (const field of IMMUTABLE_SERVICE_FIELDS) {
    if (body[field] !== undefined)
      c.problems.push({ field, message: { zh: '创建后不可修改', en: 'cannot be changed after creation' } });
  }
  if (Object.values(parsed).every((v) => v === undefined) && c.problems.length === 0) {
    c.problems.push({
      field: 'body',
      message: {
        zh: '至少需要一个可修改字段: replicas, model_version, cpu, memory, gpu, description',
        en: 'needs at least one of: replicas, model_version, cpu, memory, gpu, description',
      },
    });
  }
  c.done();
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as UpdateServiceInput;
}

export interface PageQuery {
  page: number;
  pageSize: number;
}

/**
 * A query-string parameter: its schema for the document, and how its text is read (problems are collected so a
 * client learns every one at once). Query strings arrive as text; page_size above the cap is clamped, as the seed
 * platform does.
 */
interface QueryParam<T> {
  schema: JsonSchema;
  read(raw: unknown, field: string, problems: FieldError[]): T | undefined;
}
type QueryTable = Record<string, QueryParam<unknown>>;
type QueryValuesOf<Q extends QueryTable> = { [K in keyof Q]: Q[K] extends QueryParam<infer T> ? T | undefined : never };

const queryInt = (min: number, schema: JsonSchema = {}): QueryParam<number> => ({
  schema: { type: 'integer', minimum: min, maximum: LIMITS.idMax, ...schema },
  read(raw, field, problems) {
    if (raw === undefined || raw === '') return undefined;
    const text = typeof raw === 'number' ? String(raw) : raw;
    if (typeof text !== 'string' || !/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > LIMITS.idMax) {
      problems.push({ field, message: { zh: `必须是不小于 ${min} 的整数`, en: `must be an integer of at least ${min}` } });
      return undefined;
    }
    return Number(text);
  },
});

const queryStatus: QueryParam<ServiceStatus> = {
  schema: { type: 'string', enum: [...SERVICE_STATUSES], description: 'Only services in this status (case-insensitive).' },
  read(raw, field, problems) {
    if (raw === undefined || raw === '') return undefined;
    const s = typeof raw === 'string' ? raw.toLowerCase() : undefined;
    if (s && (SERVICE_STATUSES as readonly string[]).includes(s)) return s as ServiceStatus;
    problems.push({ field, message: { zh: `必须是以下之一: ${SERVICE_STATUSES.join(', ')}`, en: `must be one of: ${SERVICE_STATUSES.join(', ')}` } });
    return undefined;
  },
};

const queryName: QueryParam<string> = {
  schema: { type: 'string', maxLength: LIMITS.nameMax, description: 'Case-insensitive substring of the name.' },
  read(raw, field, problems) {
    if (raw === undefined || raw === '') return undefined;
    if (typeof raw === 'string' && raw.length <= LIMITS.nameMax) return raw;
    problems.push({ field, message: { zh: `必须是不超过 ${LIMITS.nameMax} 个字符的字符串`, en: `must be a string of at most ${LIMITS.nameMax} characters` } });
    return undefined;
  },
};

const PAGE_PARAMS = {
  page: queryInt(1, { default: 1 }),
  page_size: queryInt(1, { default: LIMITS.pageSizeDefault, description: `Items per page; above ${LIMITS.pageSizeMax} is taken as ${LIMITS.pageSizeMax}.` }),
  workspace_id: queryInt(1, { description: 'Only this workspace (one the token grants).' }),
};
const SERVICE_LIST_PARAMS = { ...PAGE_PARAMS, status: queryStatus, name: queryName };
const MODEL_LIST_PARAMS = PAGE_PARAMS;

function readQuery<Q extends QueryTable>(table: Q, query: Record<string, unknown>): QueryValuesOf<Q> {
  const problems: FieldError[] = [];
  const out: Record<string, unknown> = {};
  for (const [field, param] of Object.entries(table)) out[field] = param.read(query[field], field, problems);
  if (problems.length) throw errors.invalidInput(problems);
  return out as QueryValuesOf<Q>;
}

export interface ServiceListQuery extends PageQuery {
  workspaceId?: number;
  status?: ServiceStatus;
  /** Case-insensitive substring of the service name. */
  name?: string;
}

export function parseServiceListQuery(query: Record<string, unknown>): ServiceListQuery {
  const q = readQuery(SERVICE_LIST_PARAMS, query);
  return {
    page: q.page ?? 1,
    pageSize: Math.min(q.page_size ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax),
    workspaceId: q.workspace_id,
    status: q.status,
    name: q.name,
  };
}

export interface ModelListQuery extends PageQuery {
  workspaceId?: number;
}

export function parseModelListQuery(query: Record<string, unknown>): ModelListQuery {
  const q = readQuery(MODEL_LIST_PARAMS, query);
  return { page: q.page ?? 1, pageSize: Math.min(q.page_size ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax), workspaceId: q.workspace_id };
}

export interface CreateModelInput {
  name: string;
  workspaceId: number;
  framework: Framework;
  task: ModelTask;
  description: string;
}

const CREATE_MODEL = {
  name: required(name),
  workspace_id: required(id),
  framework: required(oneOf(FRAMEWORKS)),
  task: optional(oneOf(MODEL_TASKS), 'image-classification' as ModelTask),
  description: optional(description, DEFAULTS.description as string),
};

export function parseCreateModel(input: unknown): CreateModelInput {
  const c = new Checker(objectBody(input));
  const v = c.read(CREATE_MODEL);
  c.done();
  return { name: v.name, workspaceId: v.workspace_id, framework: v.framework, task: v.task, description: v.description };
}

export interface CreateModelVersionInput {
  version: string;
  labels: string[];
  preprocessing: Preprocessing | null;
  /** Absent when the artifact arrives as a multipart file. */
  artifactUri?: string;
  /** Dynamic batching of the replicas; null: off. Whether the model can take a batch is checked against it. */
  batching: BatchingConfig | null;
}

const batching: Rule<BatchingConfig | null> = rule(
  {
    type: ['object', 'null'],
    description: 'Dynamic batching of the replicas (null: off, each request is one model run). Refused for a model whose batch dimension is fixed at 1.',
    properties: {
      max_batch_size: { type: 'integer', minimum: 1, maximum: BATCHING_LIMITS.maxBatchSize, description: 'Most images per model run (1: off).' },
      max_queue_delay_ms: {
        type: 'integer',
        minimum: 0,
        maximum: BATCHING_LIMITS.maxQueueDelayMs,
        default: BATCHING_LIMITS.defaultQueueDelayMs,
        description: 'Longest a request waits for others to join its batch (only while others are arriving).',
      },
      preferred_batch_sizes: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        maxItems: BATCHING_LIMITS.preferredCount,
        description: 'Strictly ascending sizes that start a run as soon as they are reached.',
      },
    },
    required: ['max_batch_size'],
    additionalProperties: false,
  },
  parseBatching,
);

const CREATE_MODEL_VERSION_FORM = {
  version: required(version),
  labels: required(labels),
  preprocessing: optional(preprocessing, null as Preprocessing | null),
  artifact_uri: optional(uri),
  batching: optional(batching, null as BatchingConfig | null),
};
const CREATE_MODEL_VERSION_BY_URI = { ...CREATE_MODEL_VERSION_FORM, artifact_uri: required(uri) };

/**
 * Validates a version's metadata. Multipart forms carry `labels` and `preprocessing` as JSON text; pass
 * `fromForm` so they are parsed here and a broken JSON text becomes a field error, not a 500.
 */
export function parseCreateModelVersion(input: unknown, opts: { fromForm?: boolean; requireUri?: boolean } = {}): CreateModelVersionInput {
  const body = { ...objectBody(input) };
  const problems: FieldError[] = [];
  if (opts.fromForm) {
    for (const field of ['labels', 'preprocessing', 'batching'] as const) {
      const raw = body[field];
      if (typeof raw !== 'string') continue;
      try {
        body[field] = JSON.parse(raw);
      } catch {
        problems.push({ field, message: { zh: '必须是有效的 JSON', en: 'must be valid JSON' } });
        delete body[field];
      }
    }
  }
  const c = new Checker(body);
  c.problems.push(...problems);
  const v = c.read(opts.requireUri ? CREATE_MODEL_VERSION_BY_URI : CREATE_MODEL_VERSION_FORM);
  c.done();
  return { version: v.version, labels: v.labels, preprocessing: v.preprocessing, artifactUri: v.artifact_uri, batching: v.batching };
}

// Optional in the table so that null (off) reaches the rule; its presence is checked below.
const MODEL_VERSION_PATCH = { batching: optional(batching) };

export interface ModelVersionPatch {
  /** null turns batching off. */
  batching: BatchingConfig | null;
}

/** PATCH of a version: only `batching` may change (the artifact, labels and preprocessing make a new version). */
export function parseModelVersionPatch(input: unknown): ModelVersionPatch {
  const body = objectBody(input);
  const c = new Checker(body);
  const v = c.read(MODEL_VERSION_PATCH);
  if (body.batching === undefined) c.problems.push({ field: 'batching', message: { zh: '为必填项（null 表示关闭）', en: 'is required (null turns it off)' } });
  c.done();
  return { batching: v.batching ?? null };
}

export interface PredictInput {
  image: string;
  topK?: number;
}

const BASE64_BODY = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Validates the seed's predict body `{inputs:{image}, parameters:{top_k}}`; decoding is the data plane's job. */
export function parsePredict(input: unknown): PredictInput {
  const body = objectBody(input);
  const problems: FieldError[] = [];
  const inputs = body.inputs;
  let image: string | undefined;
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    problems.push({ field: 'inputs', message: { zh: '为必填项，且必须是对象 {"image": "<base64>"}', en: 'is required and must be an object {"image": "<base64>"}' } });
  } else {
    const raw = (inputs as Record<string, unknown>).image;
    const text = typeof raw === 'string' ? raw.replace(/^data:image\/[a-z0-9.+-]+;base64,/i, '').replace(/\s+/g, '') : '';
    if (!text || !BASE64_BODY.test(text)) {
      problems.push({ field: 'inputs.image', message: { zh: '必须是 base64 编码的 PNG、JPEG 或 WebP 图像', en: 'must be a base64-encoded PNG, JPEG or WebP image' } });
    } else image = raw as string;
  }
  let topK: number | undefined;
  const parameters = body.parameters;
  if (parameters !== undefined && parameters !== null) {
    const k = typeof parameters === 'object' && !Array.isArray(parameters) ? (parameters as Record<string, unknown>).top_k : 'bad';
    if (k !== undefined) {
      if (typeof k === 'number' && Number.isSafeInteger(k) && k >= 1 && k <= LIMITS.labelsMax) topK = k;
      else problems.push({ field: 'parameters.top_k', message: { zh: '必须是正整数', en: 'must be a positive integer' } });
    }
  }
  if (problems.length) throw errors.invalidInput(problems);
  return { image: image!, topK };
}

/** The predict body's schema; the image is checked as base64 text (a `data:image/…;base64,` prefix and whitespace allowed). */
const PREDICT_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: {
      type: 'object',
      required: ['image'],
      properties: { image: { type: 'string', minLength: 1, contentEncoding: 'base64', description: 'A PNG, JPEG or WebP image, base64-encoded.' } },
    },
    parameters: {
      type: ['object', 'null'],
      properties: { top_k: { type: 'integer', minimum: 1, maximum: LIMITS.labelsMax, description: 'How many classes to answer, best first.' } },
    },
  },
};

/** A multipart form carries labels and preprocessing as JSON text, plus the artifact as `file`. */
function formSchema(table: FieldTable): JsonSchema {
  const json = tableSchema(table);
  const properties: Record<string, JsonSchema> = {};
  for (const [field, schema] of Object.entries(json.properties as Record<string, JsonSchema>)) {
    const type = schema.type;
    properties[field] =
      type === 'string' ? schema : { type: 'string', contentMediaType: 'application/json', contentSchema: schema, description: `${String(schema.description ?? '')} Sent as JSON text.`.trim() };
  }
  properties.file = { type: 'string', contentMediaType: 'application/octet-stream', description: 'The model artifact (an .onnx file); or give artifact_uri instead.' };
  return { type: 'object', properties, required: json.required };
}

/**
 * The request bodies' JSON Schemas, built from the very tables the parse functions check with (the gateway's
 * OpenAPI document publishes them). `required` lists what the parse functions report "is required" for.
 */
export const REQUEST_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  CreateServiceRequest: tableSchema(CREATE_SERVICE),
  UpdateServiceRequest: tableSchema(UPDATE_SERVICE, {
    description: `At least one field; ${IMMUTABLE_SERVICE_FIELDS.join(', ')} cannot be changed after creation.`,
    anyOf: Object.keys(UPDATE_SERVICE).map((field) => ({ required: [field] })),
  }),
  CreateModelRequest: tableSchema(CREATE_MODEL),
  CreateModelVersionRequest: tableSchema(CREATE_MODEL_VERSION_BY_URI),
  CreateModelVersionForm: formSchema(CREATE_MODEL_VERSION_FORM),
  UpdateModelVersionRequest: tableSchema(MODEL_VERSION_PATCH, { required: ['batching'] }),
  PredictRequest: PREDICT_SCHEMA,
};

/** The list routes' query parameters, from the tables their parse functions read. */
export const QUERY_PARAMETERS: Readonly<Record<'serviceList' | 'modelList', readonly { name: string; schema: JsonSchema }[]>> = {
  serviceList: Object.entries(SERVICE_LIST_PARAMS).map(([name, p]) => ({ name, schema: p.schema })),
  modelList: Object.entries(MODEL_LIST_PARAMS).map(([name, p]) => ({ name, schema: p.schema })),
};

/** Field schemas the response shapes share with requests (the same bounds and enums). */
export const FIELD_SCHEMAS = {
  name: nameSchema,
  description: description.schema,
  id: id.schema,
  version: version.schema,
  framework: oneOf(FRAMEWORKS).schema,
  task: oneOf(MODEL_TASKS).schema,
  memory: memory.schema,
  gpu: gpu.schema,
  labels: labels.schema,
  preprocessing: preprocessing.schema,
  batching: batching.schema,
} as const;
