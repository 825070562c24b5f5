import express, { type Request, type RequestHandler, type Response } from 'express';
import { errors, type AppError } from '@remotegpu/core';
import { languageOf } from '../http/i18n.js';
import { extensionsOf } from './errors.js';

interface BodyParserError {
  status?: number;
  type?: string;
  message?: string;
}

function bodyError(err: BodyParserError, limitBytes: number): AppError {
  if (err.type === 'entity.too.large' || err.status === 413) return errors.payloadTooLarge(limitBytes);
  if (err.type === 'entity.parse.failed') return errors.malformedBody(err.message ?? 'parse error');
  return errors.invalidInput([
    {
      field: 'body',
      message: { zh: '无法读取请求体（请使用 UTF-8 编码的 JSON）', en: 'cannot be read (send UTF-8 encoded JSON)' },
    },
  ]);
}

/** Answers a body that cannot be parsed as GraphQL-over-HTTP does: a JSON `errors` list, never a stack or HTML. */
function sendBodyError(req: Request, res: Response, error: AppError): void {
  const language = languageOf(req.headers['accept-language']);
  res
    .status(error.httpStatus)
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message: error.localized[language], extensions: extensionsOf(error, language) }] }));
}

/**
 * `express.json` with the gateway's body limit, whose failures (413 too large, 400 malformed) become GraphQL
 * error responses here instead of falling through to Express's HTML error page.
 */
export function graphqlJsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err) {
        const status = (err as BodyParserError).status;
        // Only body-parser's client errors are answered here; anything else is Express's to handle.
        if (typeof status === 'number' && status >= 400 && status < 500) return sendBodyError(req, res, bodyError(err as BodyParserError, limitBytes));
        return next(err);
      }
      next();
    });
  };
}
