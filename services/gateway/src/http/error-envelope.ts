import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, ErrorCode, errors, httpStatusOf, isAppError, toErrorAnswer } from '@remotegpu/core';
import { languageOf } from './i18n.js';
import { logOf } from './locals.js';

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

/** Where an Express error becomes an HTTP answer; what it says is core's `toErrorAnswer`, shared with router and model server. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const log = logOf(res, logger);
    const appError = toAppError(err);
    if (httpStatusOf(appError.code) >= 500) log.error({ err, code: appError.code }, 'request failed');
    if (res.headersSent) {
      // Too late for an envelope; Express closes the connection.
      next(err);
      return;
    }
    const answer = toErrorAnswer(appError, languageOf(req.get('accept-language')));
    // Vary is appended to (another middleware may vary on Origin), every other header is set.
    for (const [name, value] of Object.entries(answer.headers)) {
      if (name === 'vary') res.vary(value);
      else res.set(name, value);
    }
    res.status(answer.status).json(answer.body);
  };
}

/** Any route nobody answered, under /api/v1 or elsewhere (an unsupported method included): 404 envelope. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(errors.routeNotFound(req.path.slice(0, 200)));
};
