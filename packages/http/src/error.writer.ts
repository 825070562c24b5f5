import type { ServerResponse } from 'node:http';
import { toErrorAnswer, type AppError, type Language } from '@remotegpu/core';

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

/**
 * Writes core's error answer (`toErrorAnswer`: status, envelope, Retry-After, WWW-Authenticate) on a plain
 * node:http response; `extra` adds the transport's own headers (x-request-id, connection: close). Too late for
 * an answer once headers are out: the connection is cut instead, so the client sees a failure, not a short body.
 */
export function sendErrorAnswer(res: ServerResponse, err: AppError, lang: Language, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const answer = toErrorAnswer(err, lang);
  sendJson(res, answer.status, JSON.stringify(answer.body), { ...answer.headers, ...extra });
}
