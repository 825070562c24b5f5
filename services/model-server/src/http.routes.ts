import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errors, isAppError, parsePredict, type AppError } from '@remotegpu/core';
import { DEFAULT_TOP_K } from './image.classifier.js';
import type { LoadedModel } from './model.session.js';
import type ort from 'onnxruntime-node';
import type { InferencePipeline } from './inference.pipeline.js';
import { OipError, oipDatatype, parseInferRequest, toOipTensor, type InferRequest } from './oip.codec.js';
import { HEADER_LENGTH, splitBody, tensorBytes } from './oip.binary.js';
import { ClientGoneError, parseJson, readBody, sendEnvelopeError, sendJson, sendOipError } from './http.respond.js';

export interface RoutesOptions {
  model: LoadedModel;
  /** Every model run: one per request, or through the dynamic batcher. */
  pipeline: InferencePipeline;
  modelName: string;
  modelVersion: string;
  maxBodyBytes: number;
  logger: Logger;
  /** Loaded and not draining. */
  isReady: () => boolean;
  /** Requests whose response is not finished yet, this one included. */
  inFlight: () => number;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const SERVER_NAME = 'remotegpu-model-server';
const SERVER_VERSION = '0.1.0';
const DATA_URL_PREFIX = /^data:image\/[a-z0-9.+-]+;base64,/i;

/**
 * The routes of one replica, matched by plain string work on the path (no router library, no URL object): the
 * bodies that never change are serialized once, so health checks and metadata cost one write.
 */
export function createRequestHandler(opts: RoutesOptions): RequestHandler {
  const { model, pipeline, modelName, modelVersion, maxBodyBytes, logger } = opts;
  const live = Buffer.from(JSON.stringify({ live: true }));
  const ready = Buffer.from(JSON.stringify({ ready: true }));
  const notReady = Buffer.from(JSON.stringify({ ready: false }));
  const modelReady = Buffer.from(JSON.stringify({ name: modelName, ready: true }));
  const modelNotReady = Buffer.from(JSON.stringify({ name: modelName, ready: false }));
  const serverMetadata = Buffer.from(JSON.stringify({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ['binary_tensor_data'] }));
  const modelMetadata = Buffer.from(
    JSON.stringify({
      name: modelName,
      versions: [modelVersion],
      platform: 'onnxruntime_onnx',
      inputs: model.inputs,
      outputs: model.outputs,
      execution_provider: model.executionProvider,
      ...(model.fallbackReason ? { device_fallback_reason: model.fallbackReason } : {}),
    }),
  );
  const headOrGet = (req: IncomingMessage) => req.method === 'GET' || req.method === 'HEAD';

  /** The body, or null once the request was answered (413, closing the connection) or the client left. */
  async function bodyOf(req: IncomingMessage, res: ServerResponse, tooLarge: (err: AppError) => void, alignAt?: number): Promise<Buffer | null> {
    try {
      return await readBody(req, maxBodyBytes, { alignAt });
    } catch (err) {
      if (err instanceof ClientGoneError) return null;
      if (!isAppError(err)) throw err;
      res.shouldKeepAlive = false; // the rest of the body is never read
      tooLarge(err);
      return null;
    }
  }

  async function predict(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = pipeline.announce();
    try {
      const body = await bodyOf(req, res, (err) => sendEnvelopeError(req, res, err));
      if (body === null) return;
      const input = parsePredict(parseJson(body));
      // parsePredict has checked the alphabet; Node's decoder skips the whitespace it allowed.
      const image = Buffer.from(input.image.replace(DATA_URL_PREFIX, ''), 'base64');
      const predictions = await pipeline.predict(image, input.topK ?? DEFAULT_TOP_K, arrived);
      sendJson(res, 200, JSON.stringify({ code: 0, message: 'success', data: { predictions } }));
    } catch (err) {
      if (isAppError(err)) {
        if (err.httpStatus >= 500) logger.error({ err: err.cause ?? err, code: err.code }, 'predict failed');
        sendEnvelopeError(req, res, err);
      } else {
        logger.error({ err }, 'predict failed');
        sendEnvelopeError(req, res, errors.internal(err));
      }
    } finally {
      arrived();
    }
  }

  async function infer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = pipeline.announce();
    try {
      await inferAnnounced(req, res, arrived);
    } finally {
      arrived();
    }
  }

  async function inferAnnounced(req: IncomingMessage, res: ServerResponse, arrived: () => void): Promise<void> {
    // Binary tensor data starts right after the JSON header: read it aligned, so tensors view it without a copy.
    const headerLength = Number(req.headers[HEADER_LENGTH]);
    const alignAt = Number.isSafeInteger(headerLength) && headerLength >= 0 ? headerLength : undefined;
    const raw = await bodyOf(req, res, () => sendOipError(res, 413, `request body too large; the limit is ${maxBodyBytes} bytes`), alignAt);
    if (raw === null) return;
    let body: unknown;
    let binary: Buffer | null;
    try {
      const parts = splitBody(raw, req.headers[HEADER_LENGTH]);
      binary = parts.binary;
      body = JSON.parse(parts.json.toString('utf8'));
    } catch (err) {
      if (err instanceof OipError) return sendOipError(res, err.status, err.message);
      sendOipError(res, 400, `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    try {
      const request = parseInferRequest(body, model.inputs, model.outputs, binary);
      const results = await pipeline.infer(request, arrived);
      sendInferAnswer(res, request, results);
    } catch (err) {
      if (err instanceof OipError) sendOipError(res, err.status, err.message);
      else {
        logger.error({ err }, 'infer failed');
        sendOipError(res, 500, 'internal server error');
      }
    }
  }

  /** JSON, or with binary outputs a JSON header followed by their bytes (the binary data extension). */
  function sendInferAnswer(res: ServerResponse, request: InferRequest, results: Record<string, ort.Tensor>): void {
    const chunks: Buffer[] = [];
    const outputs = request.outputNames.map((name) => {
      if (!request.binaryOutputs.has(name)) return toOipTensor(name, results[name]);
      const tensor = results[name];
      const bytes = tensorBytes(tensor);
      chunks.push(bytes);
      return { name, datatype: oipDatatype(tensor), shape: [...tensor.dims], parameters: { binary_data_size: bytes.length } };
    });
    const header = JSON.stringify({ model_name: modelName, model_version: modelVersion, ...(request.id !== undefined ? { id: request.id } : {}), outputs });
    if (chunks.length === 0) return sendJson(res, 200, header);
    const head = Buffer.from(header);
    const total = chunks.reduce((n, c) => n + c.length, head.length);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, [HEADER_LENGTH]: head.length });
    res.end(Buffer.concat([head, ...chunks], total));
  }

  /** `/v2/models/{name}[/versions/{v}][/ready|/infer]` */
  function modelRoute(req: IncomingMessage, res: ServerResponse, path: string): void {
    const parts = path.slice('/v2/models/'.length).split('/');
    const versioned = parts.length >= 3 && parts[1] === 'versions';
    const actionAt = versioned ? 3 : 1;
    const action = parts[actionAt]; // undefined: the metadata itself
    if (parts.length > actionAt + 1 || (action !== undefined && action !== 'ready' && action !== 'infer')) {
      return notFound(req, res, path);
    }
    let name: string;
    let version: string | undefined;
    try {
      name = decodeURIComponent(parts[0]);
      if (versioned) version = decodeURIComponent(parts[2]);
    } catch {
      return sendOipError(res, 400, 'the path contains an invalid %-escape');
    }
    if (name !== modelName) return sendOipError(res, 404, `model "${name}" is not served here`);
    if (version !== undefined && version !== modelVersion) {
      return sendOipError(res, 404, `version "${version}" of model "${name}" is not served here`);
    }
    if (action === undefined && headOrGet(req)) return sendJson(res, 200, modelMetadata);
    if (action === 'ready' && headOrGet(req)) return opts.isReady() ? sendJson(res, 200, modelReady) : sendJson(res, 503, modelNotReady);
    if (action === 'infer' && req.method === 'POST') return void infer(req, res);
    notFound(req, res, path);
  }

  /**
   * Prometheus text: what an autoscaler or a drain waits on (the scrape counts itself in flight, as
   * client_golang's promhttp does).
   */
  function sendMetrics(res: ServerResponse): void {
    const body =
      '# HELP rgpu_replica_requests_in_flight Requests being served by this replica, this scrape included.\n' +
      '# TYPE rgpu_replica_requests_in_flight gauge\n' +
      `rgpu_replica_requests_in_flight ${opts.inFlight()}\n` +
      '# HELP rgpu_replica_ready Whether the replica accepts new requests (1) or is loading or draining (0).\n' +
      '# TYPE rgpu_replica_ready gauge\n' +
      `rgpu_replica_ready ${opts.isReady() ? 1 : 0}\n` +
      pipeline.metrics.render();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function notFound(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === '/v2' || path.startsWith('/v2/')) return sendOipError(res, 404, `no such route: ${req.method} ${path}`);
    sendEnvelopeError(req, res, errors.routeNotFound(`${req.method} ${path}`));
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    switch (path) {
      case '/predict':
        if (req.method === 'POST') return void predict(req, res);
        break;
      case '/v2/health/live':
        if (headOrGet(req)) return sendJson(res, 200, live);
        break;
      case '/v2/health/ready':
        if (headOrGet(req)) return opts.isReady() ? sendJson(res, 200, ready) : sendJson(res, 503, notReady);
        break;
      case '/v2':
      case '/v2/':
        if (headOrGet(req)) return sendJson(res, 200, serverMetadata);
        break;
      case '/metrics':
        if (headOrGet(req)) return sendMetrics(res);
        break;
      default:
        if (path.startsWith('/v2/models/')) return modelRoute(req, res, path);
    }
    notFound(req, res, path);
  };
}
