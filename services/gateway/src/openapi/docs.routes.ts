import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RequestHandler } from 'express';
import type { JsonSchema } from '@remotegpu/core';
import { DOCS_HTML, DOCS_JS, GRAPHIQL_HTML, GRAPHIQL_JS } from './docs.pages.js';

/**
 * `/api/v1/openapi.json`, the API reference at `/docs` and the GraphQL explorer at `/graphql` (browsers only).
 * None needs a token: the document and the pages describe the API and hold no tenant data (like the README); every
 * call the pages make carries the token the user typed. They are middlewares, not Express routes, except the
 * document, which is a route and documents itself.
 */

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/**
 * Only these files are served, by name (never a path taken from the request). Everything the pages load comes
 * from here, so they work without the internet.
 */
function assetFiles(): Map<string, string> {
  const swagger = packageDir('swagger-ui-dist');
  const graphiql = packageDir('graphiql');
  return new Map([
    ['swagger-ui.css', join(swagger, 'swagger-ui.css')],
    ['swagger-ui-bundle.js', join(swagger, 'swagger-ui-bundle.js')],
    ['graphiql.min.css', join(graphiql, 'graphiql.min.css')],
    ['graphiql.min.js', join(graphiql, 'graphiql.min.js')],
    ['react.production.min.js', join(packageDir('react'), 'umd', 'react.production.min.js')],
    ['react-dom.production.min.js', join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js')],
  ]);
}

const INLINE: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ['docs.js', { type: 'text/javascript; charset=utf-8', body: DOCS_JS }],
  ['graphiql-init.js', { type: 'text/javascript; charset=utf-8', body: GRAPHIQL_JS }],
]);

/**
 * Same-origin only: a page that tried to reach another origin would be refused by the browser. Inline styles are
 * allowed (Swagger UI and GraphiQL set them); scripts come only from the files above.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function sendPage(res: Parameters<RequestHandler>[1], html: string): void {
  res.status(200).set({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).send(html);
}

/** `GET /api/v1/openapi.json`: the document, built and serialized once. */
export function openApiDocument(build: () => JsonSchema): RequestHandler {
  let body: string | undefined;
  return (_req, res) => {
    body ??= JSON.stringify(build());
    res.status(200).set({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }).send(body);
  };
}

/** Mounted at `/docs`: the reference page and the pages' assets (also the explorer's). */
export function docsPages(): RequestHandler {
  const files = assetFiles();
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/' || req.path === '') return sendPage(res, DOCS_HTML);
    const name = req.path.startsWith('/assets/') ? req.path.slice('/assets/'.length) : undefined;
    const inline = name === undefined ? undefined : INLINE.get(name);
    if (inline) {
      res.status(200).set({ 'content-type': inline.type, 'cache-control': 'no-cache' }).send(inline.body);
      return;
    }
    const file = name === undefined ? undefined : files.get(name);
    if (!file) return next();
    // Versioned by the installed packages; an hour keeps reloads cheap without pinning a stale build for long.
    res.sendFile(file, { maxAge: 3600_000, headers: { 'x-content-type-options': 'nosniff' } }, (err) => {
      if (err) next(err);
    });
  };
}

/**
 * Placed before Apollo on `/graphql`: a browser's page load (GET asking for HTML, without a query) gets GraphiQL
 * instead of Apollo's landing page, which would load Apollo Sandbox from the internet. GraphQL requests go on.
 */
export function graphqlExplorer(): RequestHandler {
  return (req, res, next) => {
    const isPageLoad =
      (req.method === 'GET' || req.method === 'HEAD') &&
      (req.path === '/' || req.path === '') &&
      req.query.query === undefined &&
      req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
    if (!isPageLoad) return next();
    sendPage(res, GRAPHIQL_HTML);
  };
}
