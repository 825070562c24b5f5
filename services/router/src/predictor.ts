import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode, errors, predictionsOfAnswer, type InferenceService, type Language, type Prediction } from '@remotegpu/core';
import { refusalOf, type Dispatcher, type ExchangeSink } from './dispatcher.js';
import type { Exchange } from './exchange.js';
import { codeOfStatus, routerErrors, sameText } from './router.errors.js';
import { snapshotOfService, type RoutingTable } from './routing-table.js';

/** The gateway's `Predictor` port, by shape (services never import each other); `Prediction` is core's. */
export type { Prediction } from '@remotegpu/core';

export interface PredictRequest {
  /** base64 of a PNG/JPEG/WebP, with an optional `data:image/...;base64,` prefix. */
  image: string;
  topK?: number;
}

/**
 * Optional extras beyond the port: the caller's language, so a replica's own error text (a broken image, say)
 * comes back in it, and a request id to correlate logs.
 */
export interface PredictCallOptions {
  language?: Language;
  requestId?: string;
}

export interface Predictor {
  predict(service: InferenceService, request: PredictRequest, options?: PredictCallOptions): Promise<Prediction[]>;
}

export interface RouterPredictorOptions {
  table: RoutingTable<Exchange>;
  dispatcher: Dispatcher;
  maxBodyBytes: number;
  isStopping: () => boolean;
}

/**
 * REST and GraphQL predict through the same balancing, queue, retry and ejection path as the data plane, so
 * both answer 503/504/429/409 exactly as `/inference/{id}/predict` does. Errors are AppErrors with codes.
 */
export function createRouterPredictor(options: RouterPredictorOptions): Predictor {
  return {
    predict(service, request, callOptions = {}) {
      if (options.isStopping()) return Promise.reject(routerErrors.shuttingDown());
      const existing = options.table.get(service.id);
      const snapshot = snapshotOfService(service);
      // The gateway just read the store; when that is newer than the table (an event still on its way),
      // it is the better truth, and it seeds the table for a service this router has not heard of yet.
      const route = existing === undefined || snapshot.version > existing.version ? options.table.apply(snapshot) : existing;
      const refusal = refusalOf(route);
      if (refusal !== null) return Promise.reject(refusal.error);

      const parameters = request.topK === undefined ? undefined : { top_k: request.topK };
      const body = Buffer.from(JSON.stringify({ inputs: { image: request.image }, parameters }));
      if (body.length > options.maxBodyBytes) return Promise.reject(errors.payloadTooLarge(options.maxBodyBytes));
      const headers = {
        'content-type': 'application/json',
        'content-length': body.length,
        'accept-language': callOptions.language ?? 'zh',
        'x-request-id': callOptions.requestId ?? randomUUID(),
      };
      return new Promise<Prediction[]>((resolve, reject) => {
        options.dispatcher.begin(route, { method: 'POST', path: '/predict', headers, body }, new CollectingSink(service.id, options.dispatcher.requestTimeoutMs, resolve, reject));
      });
    },
  };
}

/** Reads a replica's whole answer and turns it into predictions or an AppError. */
class CollectingSink implements ExchangeSink {
  constructor(
    private readonly serviceId: string,
    private readonly timeoutMs: number,
    private readonly resolve: (predictions: Prediction[]) => void,
    private readonly reject: (error: AppError) => void,
  ) {}

  onResponse(response: IncomingMessage, exchange: Exchange): void {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => {
      exchange.responseEnded(true);
      this.settle(response.statusCode ?? 502, Buffer.concat(chunks));
    });
    response.once('close', () => {
      if (response.complete) return;
      exchange.responseEnded(false);
      this.reject(routerErrors.unreachable(this.serviceId));
    });
    response.on('error', () => {});
  }

  onFailure(error: AppError): void {
    this.reject(error);
  }

  onAbort(): void {
    // Only reached on timeout mid-body; the promise has not settled yet.
    this.reject(routerErrors.timeout(this.serviceId, this.timeoutMs));
  }

  private settle(status: number, body: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) {
      const predictions = predictionsOfAnswer(parsed);
      if (predictions) this.resolve(predictions);
      else this.reject(routerErrors.badReplicaAnswer(this.serviceId));
      return;
    }
    this.reject(replicaError(status, parsed));
  }
}

const KNOWN_CODES = new Set<number>(Object.values(ErrorCode));

/**
 * A replica's error answer keeps its code (codes survive process boundaries) and its text; field errors
 * carry over too. Its text is in the language the call asked for, so both slots hold it.
 */
function replicaError(status: number, body: unknown): AppError {
  const envelope = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    message?: unknown;
    data?: { errors?: unknown };
  };
  const code = typeof envelope.code === 'number' && KNOWN_CODES.has(envelope.code) ? (envelope.code as ErrorCode) : codeOfStatus(status);
  if (code >= ErrorCode.Internal && typeof envelope.message !== 'string') return errors.internal();
  const message = typeof envelope.message === 'string' ? envelope.message : `HTTP ${status}`;
  const fields = Array.isArray(envelope.data?.errors)
    ? (envelope.data.errors as unknown[])
        .filter((e): e is { field: string; message: string } => typeof (e as { field?: unknown })?.field === 'string' && typeof (e as { message?: unknown })?.message === 'string')
        .map((e) => ({ field: e.field, message: sameText(e.message) }))
    : [];
  return new AppError(code, sameText(message), { fields, retryAfter: code === ErrorCode.Unavailable || code === ErrorCode.TooManyRequests ? 1 : undefined });
}
