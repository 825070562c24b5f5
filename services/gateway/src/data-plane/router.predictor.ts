import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { ErrorCode, predictionsOfAnswer, type AppError, type InferenceService } from '@remotegpu/core';
import type { Prediction, PredictCallOptions, PredictRequest, Predictor } from '../application/ports.js';
import { errorOfAnswer, routerClientErrors } from './router-client.errors.js';

export interface RouterPredictorOptions {
  /** `RGPU_ROUTER_URL`: one router, or the load balancer in front of several. */
  routerUrl: string;
  /**
   * The whole call, connection to last byte (→ 504). Longer than the router's own request deadline (30 s), so a
   * slow replica is reported by the router, in its words, before this fires.
   */
  timeoutMs: number;
  /** Establishing a connection (→ 503): a router host that drops packets must not hold the caller for `timeoutMs`. */
  connectTimeoutMs: number;
  logger: Logger;
}

export interface RouterPredictor extends Predictor {
  /** Closes the kept-alive connections (on shutdown). */
  close(): void;
}

/** An answer bigger than this is not a list of predictions. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Idle kept-alive connections are closed before the router's 65 s keep-alive timeout would close them under us. */
const FREE_SOCKET_TIMEOUT_MS = 30_000;

type Attempt = { kind: 'answer'; status: number; headers: IncomingMessage['headers']; body: Buffer } | { kind: 'stale-socket' };

/**
 * The gateway's Predictor port over HTTP (distributed mode, DESIGN §2.1): REST and GraphQL predict become
 * `POST {RGPU_ROUTER_URL}/inference/{id}/predict` with the caller's own bearer token (the router checks tenancy
 * again, as for any data-plane client), `Accept-Language` and `x-request-id`. The router's error envelope comes back
 * as the AppError the in-process router throws (code, text, fields, Retry-After, reason), so both processes answer
 * alike. A router that cannot be reached is 503 with Retry-After; one that does not answer in time, 504.
 */
export function createRouterPredictor(options: RouterPredictorOptions): RouterPredictor {
  const base = new URL(options.routerUrl);
  const transport = base.protocol === 'https:' ? https : http;
  // LIFO reuses the warmest connection and lets the rest idle out.
  const agent = new transport.Agent({ keepAlive: true, scheduling: 'lifo', timeout: FREE_SOCKET_TIMEOUT_MS });
  const prefix = base.pathname.replace(/\/+$/, '');

  function attempt(service: InferenceService, body: Buffer, headers: http.OutgoingHttpHeaders, deadline: number): Promise<Attempt> {
    return new Promise<Attempt>((resolve, reject) => {
      const remaining = Math.max(1, deadline - Date.now());
      const req = transport.request({
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        method: 'POST',
        path: `${prefix}/inference/${encodeURIComponent(service.id)}/predict`,
        headers,
        agent,
      });
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        clearTimeout(connecting);
        fn();
      };
      const overall = setTimeout(() => {
        settle(() => reject(routerClientErrors.timeout(options.timeoutMs)));
        req.destroy();
      }, remaining);
      let connecting: NodeJS.Timeout | undefined;
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        connecting = setTimeout(() => {
          settle(() => reject(unreachable(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }))));
          req.destroy();
        }, Math.min(options.connectTimeoutMs, remaining));
        socket.once('connect', () => clearTimeout(connecting));
      });
      // `on`, not `once`: a destroyed request may emit a second error, and an unheard one would crash the process.
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the router closed while it sat idle: nothing reached the router, so sending the
        // request again on a fresh connection is safe (predict is idempotent anyway) and not a failure.
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          settle(() => resolve({ kind: 'stale-socket' }));
          return;
        }
        settle(() => reject(unreachable(err)));
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            settle(() => reject(routerClientErrors.badAnswer(service.id)));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () => settle(() => resolve({ kind: 'answer', status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) })));
        // Cut mid-answer (the router went away): the caller may retry.
        res.once('close', () => {
          if (!res.complete) settle(() => reject(routerClientErrors.unreachable()));
        });
        res.on('error', () => settle(() => reject(routerClientErrors.unreachable())));
      });
      req.end(body);
    });
  }

  function unreachable(err: NodeJS.ErrnoException): AppError {
    options.logger.warn({ err: { code: err.code, message: err.message }, routerUrl: options.routerUrl }, 'router unreachable');
    return routerClientErrors.unreachable();
  }

  return {
    async predict(service, request: PredictRequest, call: PredictCallOptions = {}): Promise<Prediction[]> {
      const parameters = request.topK === undefined ? undefined : { top_k: request.topK };
      const body = Buffer.from(JSON.stringify({ inputs: { image: request.image }, parameters }));
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json',
        'content-length': body.length,
        accept: 'application/json',
        'accept-language': call.language ?? 'zh',
        'x-request-id': call.requestId ?? randomUUID(),
      };
      if (call.authorization !== undefined) headers.authorization = call.authorization;
      const deadline = Date.now() + options.timeoutMs;
      let outcome = await attempt(service, body, headers, deadline);
      if (outcome.kind === 'stale-socket') outcome = await attempt(service, body, headers, deadline);
      if (outcome.kind === 'stale-socket') throw routerClientErrors.unreachable();

      if (outcome.status >= 200 && outcome.status < 300) {
        const predictions = predictionsOfAnswer(jsonOf(outcome.body));
        if (predictions === null) throw routerClientErrors.badAnswer(service.id);
        return predictions;
      }
      const error = errorOfAnswer(outcome.status, outcome.headers, outcome.body);
      if (error.code === ErrorCode.Unauthenticated) {
        // The gateway accepted this token a moment ago: unless it expired in between, the two disagree on the secret.
        options.logger.error({ requestId: headers['x-request-id'], serviceId: service.id }, 'the router refused a token the gateway accepted; do both use the same RGPU_JWT_SECRET?');
      }
      throw error;
    },
    close() {
      agent.destroy();
    },
  };
}

/** Accepts the seed envelope `{code:0, data:{predictions}}` (what replicas answer) and a bare `{predictions}`. */

/** The router's answer as JSON, or undefined when it is not (then it is no valid answer either). */
function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
