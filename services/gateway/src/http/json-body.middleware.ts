import express, { type RequestHandler } from 'express';
import { errors } from '@remotegpu/core';

interface BodyParserError {
  type?: unknown;
  message?: unknown;
}

function bodyParserType(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const type = (err as BodyParserError).type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * `express.json` with its failures turned into the contract's errors before they reach the mapper:
 * malformed JSON → 400 (40000), too large → 413 (41300), a charset or encoding it cannot read → 400.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      switch (bodyParserType(err)) {
        case 'entity.parse.failed':
          return next(errors.malformedBody(String((err as BodyParserError).message ?? 'parse error').slice(0, 200)));
        case 'entity.too.large':
          return next(errors.payloadTooLarge(limitBytes));
        case 'charset.unsupported':
        case 'encoding.unsupported':
        case 'request.size.invalid':
        case 'request.aborted':
          return next(
            errors.invalidInput([{ field: 'body', message: { zh: '无法读取请求体（编码或长度无效）', en: 'cannot be read (unsupported encoding or invalid length)' } }]),
          );
        default:
          return next(err);
      }
    });
  };
}

/**
 * Where a route needs a JSON body, a request that is not `application/json` is refused with 400 naming
 * `body` (the contract's error codes have no 415; the message says which content type to send).
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.is('application/json')) return next();
  next(
    errors.invalidInput([
      { field: 'body', message: { zh: '必须是 JSON 对象（Content-Type: application/json）', en: 'must be a JSON object sent with Content-Type: application/json' } },
    ]),
  );
};
