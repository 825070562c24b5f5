import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, httpStatusOf, type AppError } from '@remotegpu/core';
import { languageOf } from './http.i18n.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a complete JSON answer with its length (no chunked encoding, one write). */
export function sendJson(res: ServerResponse, status: number, body: string | Buffer, extra?: Record<string, string>): void {
  const headers: Record<string, string | number> = {
    'content-type': JSON_TYPE,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    ...extra,
  };
  res.writeHead(status, headers);
  res.end(body);
}

/** The platform envelope of an error (DESIGN §3): `{code, message, data?:{errors}}` in the client's language. */
export function sendEnvelopeError(req: IncomingMessage, res: ServerResponse, err: AppError): void {
  const lang = languageOf(req.headers['accept-language']);
  const body: { code: number; message: string; data?: { errors: { field: string; message: string }[] } } = {
    code: err.code,
    message: err.localized[lang],
  };
  if (err.fields.length) body.data = { errors: err.fields.map((f) => ({ field: f.field, message: f.message[lang] })) };
  const extra: Record<string, string> = { 'content-language': lang, vary: 'Accept-Language' };
  if (err.retryAfter !== undefined) extra['retry-after'] = String(err.retryAfter);
  sendJson(res, httpStatusOf(err.code), JSON.stringify(body), extra);
}

/** Open Inference Protocol errors are `{"error": "..."}` in English, the protocol's language. */
export function sendOipError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, JSON.stringify({ error: message }));
}

export class BodyError extends Error {
  constructor(readonly appError: AppError) {
    super(appError.message);
  }
}

/** The client went away before its body arrived: nobody is left to answer, and nothing is wrong with the server. */
export class ClientGoneError extends Error {}

/**
 * The request body, refused as soon as it is known to exceed `limit`: from Content-Length before reading a byte,
 * or while streaming a chunked one. With a length the buffer is allocated once and filled in place.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? -1 : Number(declared);
  if (length > limit) return Promise.reject(new BodyError(errors.payloadTooLarge(limit)));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sized = length >= 0 ? Buffer.allocUnsafe(length) : null;
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      if (received + chunk.length > (sized ? sized.length : limit)) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyError(errors.payloadTooLarge(limit)));
        return;
      }
      if (sized) chunk.copy(sized, received);
      else chunks.push(chunk);
      received += chunk.length;
    });
    req.once('end', () => resolve(sized ? sized.subarray(0, received) : Buffer.concat(chunks, received)));
    req.once('error', () => reject(new ClientGoneError('the client closed the connection')));
  });
}

/** JSON of a body, or the envelope's 400 for a text that is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw errors.malformedBody(err instanceof Error ? err.message : String(err));
  }
}
