import type { RequestHandler, Router } from 'express';
import { errors } from '@remotegpu/core';

/**
 * The slice of Express's router layers this module reads: `router.stack` is Express's documented way to list
 * routes (express-list-endpoints and friends rely on it). A layer either is a route (`route.path`,
 * `route.methods`) or, when a router is mounted without a path, holds that router's own `stack`.
 */
interface RouteLayer {
  match(path: string): boolean;
  route?: { methods: Record<string, boolean | undefined> };
  handle?: { stack?: RouteLayer[] };
}

/** HEAD is answered wherever GET is (Express does so); OPTIONS is never routed here. */
function methodsFor(stack: readonly RouteLayer[], path: string): Set<string> {
  const found = new Set<string>();
  for (const layer of stack) {
    if (layer.route) {
      if (!layer.match(path)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') found.add(method.toUpperCase());
      }
    } else if (layer.handle?.stack && layer.match(path)) {
      for (const method of methodsFor(layer.handle.stack, path)) found.add(method);
    }
  }
  if (found.has('GET')) found.add('HEAD');
  return found;
}

/**
 * Placed after a router's routes: a path that some route serves, asked with another method, is 405 with
 * `Allow` (RFC 9110 §15.5.6) instead of the 404 of an unknown path. Routes are read from the router at request
 * time, so the answer can never disagree with what is actually mounted.
 */
export function methodNotAllowed(router: Router): RequestHandler {
  return (req, res, next) => {
    const allowed = methodsFor(router.stack as unknown as RouteLayer[], req.path);
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    const list = [...allowed].sort();
    res.set('Allow', list.join(', '));
    next(errors.methodNotAllowed(req.method, `${req.baseUrl}${req.path}`.slice(0, 200), list));
  };
}
