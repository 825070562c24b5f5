import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type Response } from 'express';
import { tagRoute } from '../http/route-pattern.js';

/**
 * Where `npm run build` leaves the console (packages/console/dist), found through the link npm workspaces make in
 * node_modules (no package dependency: the gateway needs only the built files, and runs without them).
 */
export function defaultConsoleDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@remotegpu/console/package.json')), 'dist');
  } catch {
    return join(dirname(new URL(import.meta.url).pathname), 'console-not-installed');
  }
}

/**
 * Hashed asset names change with their content: a year, immutable. index.html names the current ones: revalidate.
 * The CSP keeps the page to its own origin (scripts, styles, fetch and the graphql-ws socket) and out of frames.
 */
function securityHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
}

/**
 * `/console`: the web console's static files, served without a token. They hold no data — every API and GraphQL
 * call the page makes carries the user's token — so serving them openly tells an anonymous caller nothing beyond
 * the open-source bundle (the same decision as for `GET /`).
 */
export function consoleRoutes(dir: string = defaultConsoleDir()): Router {
  const router = Router();
  const built = existsSync(join(dir, 'index.html'));
  // Express routes are not strict about a trailing slash: '/console' also matches '/console/', hence the look at the
  // raw URL. The redirect makes the page's relative URLs resolve under /console/.
  router.get('/console', tagRoute('/console'), (req, res, next) => {
    if (req.originalUrl.split('?')[0] === '/console') res.redirect(301, '/console/');
    else next();
  });
  if (!built) {
    router.get(/^\/console\/.*/, tagRoute('/console/*'), (_req, res) => {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build` and restart.\n');
    });
    return router;
  }
  router.use(
    '/console/assets',
    tagRoute('/console/assets/*'),
    express.static(join(dir, 'assets'), {
      index: false,
      fallthrough: true,
      etag: true,
      setHeaders: (res) => {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        res.setHeader('X-Content-Type-Options', 'nosniff');
      },
    }),
  );
  router.get('/console/', tagRoute('/console/'), (_req, res) => {
    securityHeaders(res);
    res.set('Cache-Control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
  return router;
}
