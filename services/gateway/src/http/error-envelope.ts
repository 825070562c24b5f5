import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, ErrorCode, errors, httpStatusOf, isAppError, type Language } from '@remotegpu/core';
import { languageOf, localize } from './i18n.js';
import { logOf } from './locals.js';

export interface ErrorEnvelope {
  code: number;
  message: string;
  data?: { errors: { field: string; message: string }[] };
}

const KNOWN_CODES = new Set<number>(Object.values(ErrorCode));

/**
 * Errors raised below the use cases by Express itself (a malformed `%` escape in a path, for one) carry an
 * http-errors `status` and `expose: true`; they are the client's fault and become a 4xx, never a 500.
 */
function fromHttpError(err: unknown): AppError | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, expose } = err as { status?: unknown; expose?: unknown };
  // The router's own URIError for a bad `%` escape carries status 400 but no `expose`.
  const clientSide = expose === true || err instanceof URIError;
  if (typeof status !== 'number' || status < 400 || status >= 500 || !clientSide) return null;
  const code = status * 100;
  const known = KNOWN_CODES.has(code) ? (code as ErrorCode) : ErrorCode.BadRequest;
  const message =
    err instanceof URIError
      ? { zh: '请求路径包含无效的 % 转义', en: 'The request path contains an invalid %-escape' }
      : { zh: `请求无效 (HTTP ${status})`, en: `Invalid request (HTTP ${status})` };
  return new AppError(known, message, { cause: err });
}

/** Anything that is not an AppError (or a client-side http error) is a defect: 500 with a generic text. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  return fromHttpError(err) ?? errors.internal(err);
}

export function toErrorEnvelope(err: AppError, lang: Language): ErrorEnvelope {
  const body: ErrorEnvelope = { code: err.code, message: localize(err.localized, lang) };
  if (err.fields.length) {
    body.data = { errors: err.fields.map((f) => ({ field: f.field, message: localize(f.message, lang) })) };
  }
  return body;
}

/** The one place where an error becomes an HTTP answer: status = code / 100, localized texts, Retry-After. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const log = logOf(res, logger);
    const appError = toAppError(err);
    const status = httpStatusOf(appError.code);
    if (status >= 500) log.error({ err, code: appError.code }, 'request failed');
    if (res.headersSent) {
      // Too late for an envelope; Express closes the connection.
      next(err);
      return;
    }
    const lang = languageOf(req.get('accept-language'));
    if (appError.retryAfter !== undefined) res.set('Retry-After', String(Math.max(0, Math.ceil(appError.retryAfter))));
    if (appError.code === ErrorCode.Unauthenticated) res.set('WWW-Authenticate', 'Bearer');
    res.set('Content-Language', lang).vary('Accept-Language').status(status).json(toErrorEnvelope(appError, lang));
  };
}

/** Any route nobody answered, under /api/v1 or elsewhere (an unsupported method included): 404 envelope. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(errors.routeNotFound(req.path.slice(0, 200)));
};
