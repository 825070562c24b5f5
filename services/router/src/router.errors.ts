import type { ServerResponse } from 'node:http';
import { AppError, ErrorCode, type Language, type Localized } from '@remotegpu/core';
import { sendErrorAnswer } from '@remotegpu/http';
import type { QueueRefusal } from './admission.js';
export { languageOf } from '@remotegpu/core';

/**
 * The data plane's own failures. The common ones (401, 404, 409, 413, 503 no replica) come from the core
 * `errors` factory so their texts match the API's word for word; these are the ones only a proxy raises.
 */
export const routerErrors = {
  /** Queue admission refused (see admission.ts): the queue is full, or waiting would outlast the queue budget. */
  overloaded(serviceId: string, reason: QueueRefusal = 'queue_full', retryAfterSeconds = 1, budgetMs = 0): AppError {
    const seconds = (budgetMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
    const texts: Record<QueueRefusal, Localized> = {
      queue_full: {
        zh: `推理服务 ${serviceId} 请求过多，排队已满，请稍后重试`,
        en: `Inference service ${serviceId} is overloaded (its request queue is full); retry later`,
      },
      queue_budget: {
        zh: `推理服务 ${serviceId} 请求过多，预计排队时间超过 ${seconds} 秒，请稍后重试`,
        en: `Inference service ${serviceId} is overloaded (the expected wait exceeds its ${seconds} s queue budget); retry later`,
      },
      queue_timeout: {
        zh: `推理服务 ${serviceId} 请求过多，排队 ${seconds} 秒仍无空闲副本，请稍后重试`,
        en: `Inference service ${serviceId} is overloaded (no replica was free within its ${seconds} s queue budget); retry later`,
      },
    };
    return new AppError(ErrorCode.TooManyRequests, texts[reason], { retryAfter: retryAfterSeconds, reason });
  },
  timeout(serviceId: string, timeoutMs: number): AppError {
    return new AppError(
      ErrorCode.Timeout,
      {
        zh: `推理服务 ${serviceId} 未在 ${timeoutMs} 毫秒内返回结果`,
        en: `Inference service ${serviceId} did not answer within ${timeoutMs} ms`,
      },
      { reason: 'upstream_timeout' },
    );
  },
  /** Both attempts failed to reach a replica (connection refused or reset before any answer). */
  unreachable(serviceId: string): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      {
        zh: `推理服务 ${serviceId} 的副本暂时无法连接，请稍后重试`,
        en: `The replicas of inference service ${serviceId} could not be reached; retry later`,
      },
      { retryAfter: 1, reason: 'upstream_unreachable' },
    );
  },
  shuttingDown(): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      { zh: '路由正在关闭，请稍后重试', en: 'The router is shutting down; retry later' },
      { retryAfter: 1, reason: 'shutting_down' },
    );
  },
  pathNotAllowed(): AppError {
    return new AppError(ErrorCode.BadRequest, {
      zh: '请求路径不能包含 . 或 .. 段',
      en: 'The request path must not contain . or .. segments',
    });
  },
  /** A replica answered something that is not the predict format (a bug or a foreign server on that port). */
  badReplicaAnswer(serviceId: string): AppError {
    return new AppError(ErrorCode.Internal, {
      zh: `推理服务 ${serviceId} 的副本返回了无法解析的结果`,
      en: `A replica of inference service ${serviceId} returned an answer that could not be read`,
    });
  },
};


/**
 * Writes core's error answer (the same as the gateway's and the model server's) with the request id; on a 413
 * the connection is closed, since an unread request body would otherwise be parsed as the next request.
 */
export function sendErrorEnvelope(
  res: ServerResponse,
  err: AppError,
  lang: Language,
  requestId: string,
  closeConnection = false,
): void {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (closeConnection) headers.connection = 'close';
  // The envelope has no slot for the reason code (`queue_budget`, `upstream_timeout`, …); the gateway's router
  // client reads it from here so GraphQL predict shows `extensions.reason` exactly as in the standalone process.
  if (err.reason !== undefined) headers[ERROR_REASON_HEADER] = err.reason;
  sendErrorAnswer(res, err, lang, headers);
}

/** The router's own refusals name their reason code in this response header (replicas' answers pass unchanged). */
export const ERROR_REASON_HEADER = 'x-rgpu-error-reason';

/** Maps an HTTP status a replica answered with onto our codes, when its body carried none. */
export function codeOfStatus(status: number): ErrorCode {
  const candidate = status * 100;
  const known = (Object.values(ErrorCode) as number[]).includes(candidate);
  if (known) return candidate as ErrorCode;
  return status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest;
}

export function sameText(text: string): Localized {
  return { zh: text, en: text };
}
