import type { IncomingHttpHeaders } from 'node:http';
import { AppError, ErrorCode, errors, type Localized } from '@remotegpu/core';

/** The router's own refusals name their reason code here (the envelope has no slot for it). */
export const ERROR_REASON_HEADER = 'x-rgpu-error-reason';

/** What the gateway says when the data plane itself cannot be asked (DESIGN §2.1: 503 with Retry-After). */
export const routerClientErrors = {
  unreachable(): AppError {
    return new AppError(
      ErrorCode.Unavailable,
      { zh: '推理路由暂时无法连接，请稍后重试', en: 'The inference router could not be reached; retry later' },
      { retryAfter: 1, reason: 'router_unreachable' },
    );
  },
  timeout(timeoutMs: number): AppError {
    return new AppError(
      ErrorCode.Timeout,
      { zh: `推理路由未在 ${timeoutMs} 毫秒内返回结果`, en: `The inference router did not answer within ${timeoutMs} ms` },
      { reason: 'router_timeout' },
    );
  },
  badAnswer(serviceId: string): AppError {
    // The same words as the in-process router's for a replica answer it cannot read.
    return new AppError(ErrorCode.Internal, {
      zh: `推理服务 ${serviceId} 的副本返回了无法解析的结果`,
      en: `A replica of inference service ${serviceId} returned an answer that could not be read`,
    });
  },
};

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));

/**
 * The router's error answer as the AppError the in-process router would have thrown: its code, its text (already
 * in the language the call asked for, so both slots hold it), field errors, `Retry-After` and the reason code. A
 * body that is not our envelope with 502/503/504 is a load balancer in front of the routers saying none answers.
 */
export function errorOfAnswer(status: number, headers: IncomingHttpHeaders, body: Buffer): AppError {
  const envelope = parseEnvelope(body);
  if (envelope === undefined && (status === 502 || status === 503 || status === 504)) return routerClientErrors.unreachable();
  const given = envelope?.code;
  const code = typeof given === 'number' && KNOWN_CODES.has(given) ? (given as ErrorCode) : codeOfStatus(status);
  const message = typeof envelope?.message === 'string' ? envelope.message : undefined;
  if (message === undefined) return code >= ErrorCode.Internal ? errors.internal() : new AppError(code, sameText(`HTTP ${status}`));
  const fields = Array.isArray(envelope?.data?.errors)
    ? (envelope.data.errors as unknown[])
        .filter((e): e is { field: string; message: string } => typeof (e as { field?: unknown })?.field === 'string' && typeof (e as { message?: unknown })?.message === 'string')
        .map((e) => ({ field: e.field, message: sameText(e.message) }))
    : [];
  const reasonHeader = headers[ERROR_REASON_HEADER];
  const reason = typeof reasonHeader === 'string' && reasonHeader !== '' ? reasonHeader : undefined;
  return new AppError(code, sameText(message), { fields, retryAfter: retryAfterOf(code, headers['retry-after']), reason });
}

interface Envelope {
  code?: unknown;
  message?: unknown;
  data?: { errors?: unknown };
}

function parseEnvelope(body: Buffer): Envelope | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && 'code' in parsed ? (parsed as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

/** The router's Retry-After; a replica's own 429/503 passes through without one, and then 1 s, as in-process. */
function retryAfterOf(code: ErrorCode, header: string | undefined): number | undefined {
  const seconds = header === undefined ? NaN : Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  return code === ErrorCode.Unavailable || code === ErrorCode.TooManyRequests ? 1 : undefined;
}

function codeOfStatus(status: number): ErrorCode {
  const candidate = status * 100;
  if (KNOWN_CODES.has(candidate)) return candidate as ErrorCode;
  return status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest;
}

function sameText(text: string): Localized {
  return { zh: text, en: text };
}
