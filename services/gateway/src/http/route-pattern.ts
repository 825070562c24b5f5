import type { Request, Response } from 'express';
import { localsOf } from './locals.js';

/**
 * The route *pattern* that answered (`/api/v1/inference/services/:id`), never the raw path, so metric
 * labels stay a small fixed set whatever ids or junk paths clients send. Express keeps `req.route` after
 * the handler ran (also when it failed), but resets `req.baseUrl` on the way out of a router, so routers
 * record their mount path in `res.locals.routeBase` when they are entered.
 */
export function routePatternOf(req: Request, res: Response): string {
  const locals = localsOf(res);
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${locals.routeBase ?? ''}${route.path}`;
  if (locals.routePattern) return locals.routePattern;
  // Entered a router but matched no route in it (401 before routing, or an unknown path under it).
  if (locals.routeBase) return `${locals.routeBase}/*`;
  return 'unmatched';
}

/** Marks requests handled by a mounted middleware (not a route), e.g. GraphQL. */
export function tagRoute(pattern: string) {
  return (_req: Request, res: Response, next: () => void): void => {
    localsOf(res).routePattern = pattern;
    next();
  };
}

/** Records the mount path of the router being entered (see {@link routePatternOf}). */
export function recordRouteBase(req: Request, res: Response, next: () => void): void {
  localsOf(res).routeBase = req.baseUrl;
  next();
}
