import type { ServiceStatus } from './service.js';

/**
 * Stable error codes of the public contract (DESIGN §3). They survive process boundaries as plain
 * numbers; `instanceof` does not, so every adapter maps by `code`, never by class.
 */
export const ErrorCode = {
  BadRequest: 40000,
  Unauthenticated: 40100,
  Forbidden: 40300,
  NotFound: 40400,
  MethodNotAllowed: 40500,
  Conflict: 40900,
  PayloadTooLarge: 41300,
  Unprocessable: 42200,
  TooManyRequests: 42900,
  Internal: 50000,
  Unavailable: 50300,
  Timeout: 50400,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function httpStatusOf(code: ErrorCode): number {
  return Math.floor(code / 100);
}

/** A message in the two languages the API speaks: Chinese by default, English on `Accept-Language: en`. */
export interface Localized {
  zh: string;
  en: string;
}
export type Language = keyof Localized;

export interface FieldError {
  field: string;
  message: Localized;
}

export interface AppErrorOptions {
  fields?: FieldError[];
  cause?: unknown;
  /** Seconds, for 429/503 answers that a client may retry. */
  retryAfter?: number;
  /** A machine-readable refinement of `code` (e.g. `stale_version`), stable across processes. */
  reason?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly localized: Localized;
  readonly fields: FieldError[];
  readonly retryAfter?: number;
  readonly reason?: string;

  constructor(code: ErrorCode, message: Localized, options: AppErrorOptions = {}) {
    super(message.en, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.localized = message;
    this.fields = options.fields ?? [];
    this.retryAfter = options.retryAfter;
    this.reason = options.reason;
  }

  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

/**
 * Machine-readable refinements of a code that callers branch on. A store adapter reports a write against an
 * outdated `version` as 40900 with {@link ConflictReason.StaleVersion}; the retry loops (gateway use cases,
 * provisioner reconciler) recognise it with {@link isStaleWrite} and re-read, while any other 40900 (a
 * duplicate name) must reach the client. Every store adapter's contract suite asserts this.
 */
export const ConflictReason = {
  StaleVersion: 'stale_version',
  InvalidStatus: 'invalid_status',
} as const;
export type ConflictReason = (typeof ConflictReason)[keyof typeof ConflictReason];

export function isAppError(err: unknown): err is AppError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as AppError).code === 'number' &&
    typeof (err as AppError).localized === 'object'
  );
}

/** A write lost an optimistic-concurrency race: re-read the record and decide again. */
export function isStaleWrite(err: unknown): boolean {
  return isAppError(err) && err.code === ErrorCode.Conflict && err.reason === ConflictReason.StaleVersion;
}

/** A status in words, for messages (the API itself shows the lowercase status name). */
export const STATUS_WORDS: Readonly<Record<ServiceStatus, Localized>> = {
  creating: { zh: '创建中', en: 'being created' },
  running: { zh: '运行中', en: 'running' },
  updating: { zh: '更新中', en: 'being updated' },
  stopping: { zh: '停止中', en: 'stopping' },
  stopped: { zh: '已停止', en: 'stopped' },
  failed: { zh: '失败', en: 'failed' },
};

// Factories for the errors every layer raises, so texts stay consistent across REST and GraphQL.
export const errors = {
  invalidInput(fields: FieldError[]): AppError {
    const names = fields.map((f) => f.field).join(', ');
    return new AppError(
      ErrorCode.BadRequest,
      { zh: `请求参数无效: ${names}`, en: `Invalid input: ${names}` },
      { fields },
    );
  },
  malformedBody(detail: string): AppError {
    return new AppError(ErrorCode.BadRequest, {
      zh: `请求体不是有效的 JSON: ${detail}`,
      en: `The request body is not valid JSON: ${detail}`,
    });
  },
  unauthenticated(why: Localized = { zh: '缺少或无效的访问令牌', en: 'Missing, invalid or expired access token' }): AppError {
    return new AppError(ErrorCode.Unauthenticated, why);
  },
  forbiddenWorkspace(workspaceId: number): AppError {
    return new AppError(ErrorCode.Forbidden, {
      zh: `当前令牌无权操作工作空间 ${workspaceId}`,
      en: `This token may not act in workspace ${workspaceId}`,
    });
  },
  serviceNotFound(id: string): AppError {
    return new AppError(ErrorCode.NotFound, { zh: `推理服务不存在: ${id}`, en: `Inference service not found: ${id}` });
  },
  modelNotFound(id: number | string): AppError {
    return new AppError(ErrorCode.NotFound, { zh: `模型不存在: ${id}`, en: `Model not found: ${id}` });
  },
  /** The artifact endpoint: no such artifact, or one the caller's artifact token does not open. */
  artifactNotFound(modelId: number, version: string): AppError {
    return new AppError(ErrorCode.NotFound, {
      zh: `模型文件不存在: 模型 ${modelId} 版本 ${version}`,
      en: `Model artifact not found: model ${modelId} version ${version}`,
    });
  },
  routeNotFound(path: string): AppError {
    return new AppError(ErrorCode.NotFound, { zh: `接口不存在: ${path}`, en: `No such route: ${path}` });
  },
  /** The route exists but not for this method; the transport sends `Allow` with the methods it does serve. */
  methodNotAllowed(method: string, path: string, allowed: readonly string[]): AppError {
    const list = allowed.join(', ');
    return new AppError(ErrorCode.MethodNotAllowed, {
      zh: `接口 ${path} 不支持 ${method} 方法，可用方法: ${list}`,
      en: `${path} does not support ${method}; allowed methods: ${list}`,
    });
  },
  duplicateServiceName(name: string): AppError {
    return new AppError(
      ErrorCode.Conflict,
      { zh: `同一工作空间下已存在同名推理服务: ${name}`, en: `An inference service named "${name}" already exists in this workspace` },
      { fields: [{ field: 'name', message: { zh: '名称已被使用', en: 'name is already taken' } }] },
    );
  },
  duplicateModelName(name: string): AppError {
    return new AppError(
      ErrorCode.Conflict,
      { zh: `同一工作空间下已存在同名模型: ${name}`, en: `A model named "${name}" already exists in this workspace` },
      { fields: [{ field: 'name', message: { zh: '名称已被使用', en: 'name is already taken' } }] },
    );
  },
  duplicateModelVersion(version: string): AppError {
    return new AppError(
      ErrorCode.Conflict,
      { zh: `模型版本已存在: ${version}`, en: `Model version "${version}" already exists` },
      { fields: [{ field: 'version', message: { zh: '版本已存在', en: 'version already exists' } }] },
    );
  },
  idempotencyConflict(): AppError {
    return new AppError(ErrorCode.Conflict, {
      zh: 'Idempotency-Key 已用于另一个不同的请求体',
      en: 'This Idempotency-Key was already used with a different request body',
    });
  },
  concurrentModification(id: string): AppError {
    return new AppError(
      ErrorCode.Conflict,
      { zh: `推理服务 ${id} 正被同时修改，请重试`, en: `Inference service ${id} was modified concurrently; retry the request` },
      { reason: ConflictReason.StaleVersion },
    );
  },
  /** Predict on a service that takes no traffic (stopping, stopped, failed): say so, and that start brings it back. */
  notServing(id: string, status: ServiceStatus): AppError {
    const word = STATUS_WORDS[status];
    return new AppError(
      ErrorCode.Conflict,
      {
        zh: `推理服务 ${id} 当前状态为${word.zh}（${status}），不接受预测请求；请先启动服务（POST /api/v1/inference/services/${id}/start 或 GraphQL startInferenceService）`,
        en: `Inference service ${id} is ${status} and takes no predictions; start it first (POST /api/v1/inference/services/${id}/start, or the GraphQL mutation startInferenceService)`,
      },
      { reason: ConflictReason.InvalidStatus },
    );
  },
  unprocessable(message: Localized, fields?: FieldError[]): AppError {
    return new AppError(ErrorCode.Unprocessable, message, { fields });
  },
  payloadTooLarge(limitBytes: number): AppError {
    return new AppError(ErrorCode.PayloadTooLarge, {
      zh: `请求体过大，上限为 ${limitBytes} 字节`,
      en: `Request body too large; the limit is ${limitBytes} bytes`,
    });
  },
  noReadyReplica(id: string): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      { zh: `推理服务 ${id} 暂无就绪副本，请稍后重试`, en: `Inference service ${id} has no ready replica yet; retry later` },
      { retryAfter: 1 },
    );
  },
  /**
   * The store (a networked database) cannot be reached right now: 503 with Retry-After, not a 500, since the same
   * request succeeds once the connection is back. A write that failed this way may still have been applied.
   */
  storeUnavailable(cause?: unknown): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      { zh: '数据存储暂时不可用，请稍后重试', en: 'The data store is temporarily unavailable; retry shortly' },
      { retryAfter: 2, reason: 'store_unavailable', cause },
    );
  },
  internal(cause?: unknown): AppError {
    return new AppError(ErrorCode.Internal, { zh: '服务器内部错误', en: 'Internal server error' }, { cause });
  },
};
