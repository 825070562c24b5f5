import type { ServerResponse } from 'node:http';
import { AppError, ErrorCode, httpStatusOf, type Language, type Localized } from '@remotegpu/core';
export { languageOf } from '@remotegpu/core';

/**
 * The data plane's own failures. The common ones (401, 404, 409, 413, 503 no replica) come from the core
 * `errors` factory so their texts match the API's word for word; these are the ones only a proxy raises.
 */
export const routerErrors = {
  overloaded(serviceId: string): AppError {
    return new AppError(
      ErrorCode.TooManyRequests,
      {
        zh: `推理服务 ${serviceId} 请求过多，排队已满，请稍后重试`,
        en: `Inference service ${serviceId} is overloaded (its request queue is full); retry later`,
      },
      { retryAfter: 1, reason: 'queue_full' },
    );
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


export interface ErrorEnvelope {
  code: number;
  message: string;
  data?: { errors: { field: string; message: string }[] };
}

export function toErrorEnvelope(err: AppError, lang: Language): ErrorEnvelope {
  const body: ErrorEnvelope = { code: err.code, message: err.localized[lang] };
  if (err.fields.length) {
    body.data = { errors: err.fields.map((f) => ({ field: f.field, message: f.message[lang] })) };
  }
  return body;
}

/** The same answer the gateway's error handler gives: status = code / 100, localized text, Retry-After. */
export function sendErrorEnvelope(
  res: ServerResponse,
  err: AppError,
  lang: Language,
  requestId: string,
  closeConnection = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(toErrorEnvelope(err, lang));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-language': lang,
    vary: 'Accept-Language',
    'x-request-id': requestId,
  };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(err.retryAfter)));
  if (err.code === ErrorCode.Unauthenticated) headers['www-authenticate'] = 'Bearer';
  // An unread request body (413) would otherwise be parsed as the next request on this connection.
  if (closeConnection) headers.connection = 'close';
  res.writeHead(httpStatusOf(err.code), headers);
  res.end(body);
}

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
