import { ErrorCode, httpStatusOf, type AppError, type Language } from './errors.js';

/** The error envelope of the REST contract (DESIGN §3): `{code, message, data?: {errors: [{field, message}]}}`. */
export interface ErrorEnvelope {
  code: number;
  message: string;
  data?: { errors: { field: string; message: string }[] };
}

/** Everything an HTTP transport writes for an error: it adds only content-type/length and its own headers. */
export interface ErrorAnswer {
  status: number;
  /** Lower-case names: content-language, vary, and where they apply retry-after and www-authenticate. */
  headers: Record<string, string>;
  body: ErrorEnvelope;
}

/**
 * `Retry-After` in whole seconds (RFC 9110 allows no fractions), rounded up and at least 1: a client told
 * "0" retries at once, which is what the 429/503 was meant to prevent. Undefined when the error is not retryable.
 */
export function retryAfterSeconds(err: Pick<AppError, 'retryAfter'>): number | undefined {
  const seconds = err.retryAfter;
  if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
  return Math.max(1, Math.ceil(seconds));
}

export function toErrorEnvelope(err: AppError, lang: Language): ErrorEnvelope {
  const body: ErrorEnvelope = { code: err.code, message: err.localized[lang] };
  if (err.fields.length) body.data = { errors: err.fields.map((f) => ({ field: f.field, message: f.message[lang] })) };
  return body;
}

/**
 * The one mapping from an AppError to an HTTP answer (gateway, router and model server only write it):
 * status = code / 100, texts in the request's language, `Retry-After` for retryable errors, and
 * `WWW-Authenticate: Bearer` on 401 (RFC 6750).
 */
export function toErrorAnswer(err: AppError, lang: Language): ErrorAnswer {
  const headers: Record<string, string> = { 'content-language': lang, vary: 'Accept-Language' };
  const retryAfter = retryAfterSeconds(err);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (err.code === ErrorCode.Unauthenticated) headers['www-authenticate'] = 'Bearer';
  return { status: httpStatusOf(err.code), headers, body: toErrorEnvelope(err, lang) };
}
