import type { Response } from 'express';
import type { Logger } from 'pino';
import { errors } from '@remotegpu/core';
import type { Principal } from '../application/principal.js';
import type { CallTrace } from '../application/ports.js';

/**
 * Typed access to what the middlewares leave in `res.locals`. No global `Express.Locals` augmentation:
 * the GraphQL side is free to keep its own, and nothing here can collide with it.
 */
export interface RequestLocals {
  requestId: string;
  log: Logger;
  principal?: Principal;
  /** Mount path of the router that matched (`/api/v1`), for the metrics' route pattern. */
  routeBase?: string;
  /** A pattern for requests no Express route describes (e.g. `/graphql`). */
  routePattern?: string;
}

export function localsOf(res: Response): Partial<RequestLocals> {
  return res.locals as Partial<RequestLocals>;
}

/** The verified caller; the auth middleware guarantees it on every /api/v1 route. */
export function principalOf(res: Response): Principal {
  const principal = localsOf(res).principal;
  if (!principal) throw errors.unauthenticated();
  return principal;
}

/** The request behind a change, for the intent it publishes (x-request-id → correlationId). */
export function traceOf(res: Response): CallTrace {
  return { requestId: localsOf(res).requestId };
}

export function logOf(res: Response, fallback: Logger): Logger {
  return localsOf(res).log ?? fallback;
}
