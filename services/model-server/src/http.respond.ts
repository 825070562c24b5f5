import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, languageOf, type AppError } from '@remotegpu/core';
import { sendErrorAnswer, sendJson } from '@remotegpu/http';

export { ClientGoneError, readBody, sendJson } from '@remotegpu/http';

/** The platform envelope of an error (DESIGN §3), written as core's `toErrorAnswer` says, in the client's language. */
export function sendEnvelopeError(req: IncomingMessage, res: ServerResponse, err: AppError, extra?: Record<string, string>): void {
  sendErrorAnswer(res, err, languageOf(req.headers['accept-language']), extra);
}

/** Open Inference Protocol errors are `{"error": "..."}` in English, the protocol's language. */
export function sendOipError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, JSON.stringify({ error: message }));
}

/** JSON of a body, or the envelope's 400 for a text that is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw errors.malformedBody(err instanceof Error ? err.message : String(err));
  }
}
