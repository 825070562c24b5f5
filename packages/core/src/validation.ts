import { errors, type FieldError, type Localized } from './errors.js';
import { FRAMEWORKS, SERVICE_STATUSES, type Framework, type ServiceStatus } from './service.js';
import { MODEL_TASKS, type ModelTask, type Preprocessing } from './model.js';

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

type Rule<T> = (value: unknown) => { ok: true; value: T } | { ok: false; message: Localized };

const ok = <T>(value: T) => ({ ok: true as const, value });
const fail = (zh: string, en: string) => ({ ok: false as const, message: { zh, en } });

const integer =
  (min: number, max: number): Rule<number> =>
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
      ? ok(v)
      : fail(`必须是 ${min} 到 ${max} 之间的整数`, `must be an integer from ${min} to ${max}`);

const name: Rule<string> = (v) => {
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
};

const description: Rule<string> = (v) =>
  typeof v === 'string' && v.length <= LIMITS.descriptionMax
    ? ok(v)
    : fail(`必须是不超过 ${LIMITS.descriptionMax} 个字符的字符串`, `must be a string of at most ${LIMITS.descriptionMax} characters`);

const version: Rule<string> = (v) =>
  typeof v === 'string' && v.length >= 1 && v.length <= LIMITS.versionMax && VERSION_PATTERN.test(v)
    ? ok(v)
    : fail(
        `必须是 1 到 ${LIMITS.versionMax} 个字符（字母、数字、. _ + -），以字母或数字开头`,
        `must be 1 to ${LIMITS.versionMax} characters of letters, digits, ".", "_", "+", "-", starting with a letter or digit`,
      );

const oneOf =
  <T extends string>(allowed: readonly T[]): Rule<T> =>
  (v) =>
    typeof v === 'string' && (allowed as readonly string[]).includes(v)
      ? ok(v as T)
      : fail(`必须是以下之一: ${allowed.join(', ')}`, `must be one of: ${allowed.join(', ')}`);

const cpu: Rule<number> = (v) =>
  typeof v === 'number' &&
  Number.isFinite(v) &&
  v >= LIMITS.cpuMin &&
  v <= LIMITS.cpuMax &&
  Math.abs(Math.round(v * 1000) - v * 1000) < 1e-6
    ? ok(Math.round(v * 1000) / 1000)
    : fail(
        `必须是 ${LIMITS.cpuMin} 到 ${LIMITS.cpuMax} 之间的核数，精度 0.001`,
        `must be a number of cores from ${LIMITS.cpuMin} to ${LIMITS.cpuMax}, in steps of 0.001`,
      );

const memory: Rule<number> = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= LIMITS.memoryMin && v <= LIMITS.memoryMax
    ? ok(v)
    : fail(
        `必须是以字节为单位的整数，范围 ${LIMITS.memoryMin}（128 MiB）到 ${LIMITS.memoryMax}（1 TiB）`,
        `must be an integer number of bytes from ${LIMITS.memoryMin} (128 MiB) to ${LIMITS.memoryMax} (1 TiB)`,
      );

const labels: Rule<string[]> = (v) =>
  Array.isArray(v) &&
  v.length >= 1 &&
  v.length <= LIMITS.labelsMax &&
  v.every((l) => typeof l === 'string' && l.length >= 1 && l.length <= LIMITS.labelMax)
    ? ok(v as string[])
    : fail(
        `必须是非空字符串数组（每个输出类别一个，至多 ${LIMITS.labelsMax} 个）`,
        `must be a non-empty array of non-empty strings, one per output class (at most ${LIMITS.labelsMax})`,
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

const preprocessing: Rule<Preprocessing | null> = parsePreprocessing;

const uri: Rule<string> = (v) =>
  typeof v === 'string' && v.length >= 1 && v.length <= 2048
    ? ok(v)
    : fail('必须是不超过 2048 个字符的 URI', 'must be a URI of at most 2048 characters');

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

/** Validates a create body in the seed's snake_case shape. */
export function parseCreateService(input: unknown): CreateServiceInput {
  const c = new Checker(objectBody(input));
  const parsed: CreateServiceInput = {
    name: c.required('name', name),
    description: c.optional('description', description, DEFAULTS.description),
    workspaceId: c.required('workspace_id', integer(1, LIMITS.idMax)),
    modelId: c.required('model_id', integer(1, LIMITS.idMax)),
    modelVersion: c.required('model_version', version),
    framework: c.optional('framework', oneOf(FRAMEWORKS)),
    cpu: c.optional('cpu', cpu, DEFAULTS.cpu),
    memory: c.optional('memory', memory, DEFAULTS.memory),
    gpu: c.optional('gpu', integer(0, LIMITS.gpuMax), DEFAULTS.gpu),
    replicas: c.optional('replicas', integer(LIMITS.replicasMin, LIMITS.replicasMax), DEFAULTS.replicas),
  };
  c.done();
  return parsed;
}

export interface UpdateServiceInput {
  description?: string;
  modelVersion?: string;
  cpu?: number;
  memory?: number;
  gpu?: number;
  replicas?: number;
}

export function parseUpdateService(input: unknown): UpdateServiceInput {
  const body = objectBody(input);
  const c = new Checker(body);
  const parsed: UpdateServiceInput = {
    description: c.optional('description', description),
    modelVersion: c.optional('model_version', version),
    cpu: c.optional('cpu', cpu),
    memory: c.optional('memory', memory),
    gpu: c.optional('gpu', integer(0, LIMITS.gpuMax)),
    replicas: c.optional('replicas', integer(LIMITS.replicasMin, LIMITS.replicasMax)),
  };
  for (const field of ['name', 'workspace_id', 'model_id', 'framework'] as const) {
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

/** Query strings arrive as text; page_size above the cap is clamped, as the seed platform does. */
function queryInt(field: string, raw: unknown, min: number, problems: FieldError[]): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > LIMITS.idMax) {
    problems.push({ field, message: { zh: `必须是不小于 ${min} 的整数`, en: `must be an integer of at least ${min}` } });
    return undefined;
  }
  return Number(text);
}

export interface ServiceListQuery extends PageQuery {
  workspaceId?: number;
  status?: ServiceStatus;
  /** Case-insensitive substring of the service name. */
  name?: string;
}

export function parseServiceListQuery(query: Record<string, unknown>): ServiceListQuery {
  const problems: FieldError[] = [];
  const page = queryInt('page', query.page, 1, problems) ?? 1;
  const pageSize = Math.min(queryInt('page_size', query.page_size, 1, problems) ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax);
  const workspaceId = queryInt('workspace_id', query.workspace_id, 1, problems);
  let status: ServiceStatus | undefined;
  if (query.status !== undefined && query.status !== '') {
    const s = typeof query.status === 'string' ? query.status.toLowerCase() : undefined;
    if (s && (SERVICE_STATUSES as readonly string[]).includes(s)) status = s as ServiceStatus;
    else problems.push({ field: 'status', message: { zh: `必须是以下之一: ${SERVICE_STATUSES.join(', ')}`, en: `must be one of: ${SERVICE_STATUSES.join(', ')}` } });
  }
  let nameFilter: string | undefined;
  if (query.name !== undefined && query.name !== '') {
    if (typeof query.name === 'string' && query.name.length <= LIMITS.nameMax) nameFilter = query.name;
    else problems.push({ field: 'name', message: { zh: `必须是不超过 ${LIMITS.nameMax} 个字符的字符串`, en: `must be a string of at most ${LIMITS.nameMax} characters` } });
  }
  if (problems.length) throw errors.invalidInput(problems);
  return { page, pageSize, workspaceId, status, name: nameFilter };
}

export interface ModelListQuery extends PageQuery {
  workspaceId?: number;
}

export function parseModelListQuery(query: Record<string, unknown>): ModelListQuery {
  const problems: FieldError[] = [];
  const page = queryInt('page', query.page, 1, problems) ?? 1;
  const pageSize = Math.min(queryInt('page_size', query.page_size, 1, problems) ?? LIMITS.pageSizeDefault, LIMITS.pageSizeMax);
  const workspaceId = queryInt('workspace_id', query.workspace_id, 1, problems);
  if (problems.length) throw errors.invalidInput(problems);
  return { page, pageSize, workspaceId };
}

export interface CreateModelInput {
  name: string;
  workspaceId: number;
  framework: Framework;
  task: ModelTask;
  description: string;
}

export function parseCreateModel(input: unknown): CreateModelInput {
  const c = new Checker(objectBody(input));
  const parsed: CreateModelInput = {
    name: c.required('name', name),
    workspaceId: c.required('workspace_id', integer(1, LIMITS.idMax)),
    framework: c.required('framework', oneOf(FRAMEWORKS)),
    task: c.optional('task', oneOf(MODEL_TASKS), 'image-classification'),
    description: c.optional('description', description, DEFAULTS.description),
  };
  c.done();
  return parsed;
}

export interface CreateModelVersionInput {
  version: string;
  labels: string[];
  preprocessing: Preprocessing | null;
  /** Absent when the artifact arrives as a multipart file. */
  artifactUri?: string;
}

/**
 * Validates a version's metadata. Multipart forms carry `labels` and `preprocessing` as JSON text; pass
 * `fromForm` so they are parsed here and a broken JSON text becomes a field error, not a 500.
 */
export function parseCreateModelVersion(input: unknown, opts: { fromForm?: boolean; requireUri?: boolean } = {}): CreateModelVersionInput {
  const body = { ...objectBody(input) };
  const problems: FieldError[] = [];
  if (opts.fromForm) {
    for (const field of ['labels', 'preprocessing'] as const) {
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
  const parsed: CreateModelVersionInput = {
    version: c.required('version', version),
    labels: c.required('labels', labels),
    preprocessing: c.optional('preprocessing', preprocessing, null),
    artifactUri: opts.requireUri ? c.required('artifact_uri', uri) : c.optional('artifact_uri', uri),
  };
  c.done();
  return parsed;
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
