import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { localsOf } from './locals.js';
import { routePatternOf } from './route-pattern.js';

/** A caller's own id is kept when it is harmless (so traces join up); anything else gets a fresh UUID. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Orchestrators poll these every few seconds: logged at debug so they do not drown the access log. */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Gives every request an id (`X-Request-Id`, echoed back), a pino child logger carrying it, and one
 * structured access-log line when the response is done. Bodies and query strings are never logged:
 * they may carry images, names or tokens.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    const locals = localsOf(res);
    locals.requestId = requestId;
    locals.log = log;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const level = PROBE_PATHS.has(req.path) && res.statusCode < 400 ? 'debug' : 'info';
      log[level](
        {
          method: req.method,
          path: req.path,
          route: routePatternOf(req, res),
          status: res.statusCode,
          durationMs: Math.round(durationMs * 1000) / 1000,
          aborted: !res.writableFinished,
        },
        'request',
      );
    });
    next();
  };
}
