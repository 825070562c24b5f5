import ort from 'onnxruntime-node';
import type { BatchingConfig } from '@remotegpu/core';
import { DynamicBatcher, type BatchItem } from './batch.queue.js';
import { BatchMetrics } from './batch.metrics.js';
import type { ImageClassifier } from './image.classifier.js';
import { ortReason, type LoadedModel } from './model.session.js';
import { OipError, type InferRequest } from './oip.codec.js';
import type { Prediction } from './scores.postprocess.js';

interface ImageItem extends BatchItem {
  data: Float32Array;
}

interface OipItem extends BatchItem {
  request: InferRequest;
}

type Outputs = Record<string, ort.Tensor>;
type TensorData = ort.Tensor['data'];

/**
 * Every model run of the replica goes through here: with batching off, one run per request as before; with it on,
 * `/predict` images (decoded and preprocessed concurrently, each request on its own, so a broken image is a 400
 * that never joins a batch) and OIP infer requests of equal shapes are queued in the dynamic batcher and run
 * together. Both kinds share one batcher, so the session still runs one batch at a time.
 */
export class InferencePipeline {
  readonly metrics: BatchMetrics;
  private readonly batcher: DynamicBatcher<ImageItem | OipItem, Float32Array | Outputs> | null;
  /** Whether every model input takes a dynamic batch dimension (OIP requests can then be stacked). */
  private readonly oipBatchable: boolean;

  constructor(
    private readonly model: LoadedModel,
    private readonly classifier: ImageClassifier,
    batching: BatchingConfig | null,
    names: { model: string; version: string },
  ) {
    this.metrics = new BatchMetrics(names.model, names.version);
    this.oipBatchable = model.inputs.every((s) => s.shape.length > 0 && s.shape[0] === -1 && s.datatype !== 'UNSUPPORTED');
    this.batcher = batching ? new DynamicBatcher(batching, (items) => this.runBatch(items), this.metrics) : null;
  }

  get batching(): boolean {
    return this.batcher !== null;
  }

  /**
   * Called when a request arrives, before its body is read: the batcher then knows company is on the way (see
   * `DynamicBatcher.expect`). The answer is called once the request is queued or has failed; it is idempotent.
   */
  announce(): () => void {
    const batcher = this.batcher;
    if (!batcher) return () => {};
    batcher.expect();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      batcher.arrived();
    };
  }

  async predict(image: Buffer, k: number, arrived: () => void = this.announce()): Promise<Prediction[]> {
    const batcher = this.batcher;
    if (!batcher) {
      const data = await this.classifier.prepare(image);
      this.metrics.ran(1, 0);
      const [scores] = await this.classifier.scoreBatch([data]);
      return this.classifier.finish(scores, k);
    }
    let submitted: Promise<Float32Array | Outputs>;
    try {
      // Decoding runs on libvips' threads; many requests decode at once while the batch before them runs.
      const data = await this.classifier.prepare(image);
      submitted = batcher.submit({ key: 'image', rows: 1, data });
    } finally {
      arrived();
    }
    return this.classifier.finish((await submitted) as Float32Array, k);
  }

  /** The outputs the request names; an OipError 400 when onnxruntime refuses its values. */
  async infer(request: InferRequest, arrived: () => void = () => {}): Promise<Outputs> {
    const key = this.batcher && this.oipBatchable ? oipKey(request) : null;
    if (!this.batcher || !key || key.rows > this.batcher.maxBatchSize) {
      arrived();
      this.metrics.ran(rowsOf(request) ?? 1, 0);
      return this.runAlone(request);
    }
    const submitted = this.batcher.submit({ key: key.key, rows: key.rows, request });
    arrived();
    const result: unknown = await submitted;
    if (result instanceof FailedResult) throw result.error;
    return result as Outputs;
  }

  /** Runs whatever is queued without waiting for company (shutdown: every admitted request is answered). */
  drain(): void {
    this.batcher?.drain();
  }

  private runBatch(items: (ImageItem | OipItem)[]): Promise<(Float32Array | Outputs)[]> {
    if ('data' in items[0]) return this.classifier.scoreBatch((items as ImageItem[]).map((i) => i.data));
    return this.runOipBatch(items as OipItem[]);
  }

  private async runAlone(request: InferRequest): Promise<Outputs> {
    try {
      // Tensors that own their whole buffer were decoded for this request alone and are not read after the run:
      // handed over, not copied. Views of the request body (binary tensor data) are copied.
      const owned = Object.values(request.feeds).every((t) => Array.isArray(t.data) || (t.data as ArrayBufferView).byteLength === (t.data as ArrayBufferView).buffer.byteLength);
      return await this.model.session.run(request.feeds, request.outputNames, owned);
    } catch (err) {
      // The request passed the signature checks, so what remains is about its values (a dimension the graph
      // cannot combine, an index out of range): the client's to fix.
      throw new OipError(400, `inference failed: ${ortReason(err)}`);
    }
  }

  private async runOipBatch(items: OipItem[]): Promise<Outputs[]> {
    if (items.length === 1) return [await this.runAlone(items[0].request)];
    const first = items[0].request;
    const feeds: Outputs = {};
    for (const name of Object.keys(first.feeds)) feeds[name] = stack(items.map((i) => i.request.feeds[name]));
    let results: Outputs;
    try {
      results = await this.model.session.run(feeds, first.outputNames, true); // stacked for this run alone
    } catch {
      // One request's values (an index out of range…) must not fail the others: each runs alone, and only the
      // culprit gets its 400. Counted as extra runs in the metrics.
      return this.oneByOne(items);
    }
    const total = items.reduce((n, i) => n + i.rows, 0);
    // An output that is not per row (a scalar, a pooled statistic) cannot be split: run each request alone.
    if (!first.outputNames.every((n) => results[n].dims[0] === total)) return this.oneByOne(items);
    let row = 0;
    return items.map((item) => {
      const out: Outputs = {};
      for (const name of first.outputNames) out[name] = sliceRows(results[name], row, item.rows);
      row += item.rows;
      return out;
    });
  }

  private async oneByOne(items: OipItem[]): Promise<Outputs[]> {
    const settled: Outputs[] = [];
    const failures = new Map<number, unknown>();
    for (const [i, item] of items.entries()) {
      this.metrics.ran(item.rows, 0);
      try {
        settled[i] = await this.runAlone(item.request);
      } catch (err) {
        failures.set(i, err);
      }
    }
    if (failures.size === 0) return settled;
    // The batcher fails a whole batch on a throw, so per-item failures travel as rejected results.
    return settled.map((r, i) => (failures.has(i) ? (new FailedResult(failures.get(i)) as unknown as Outputs) : r));
  }
}

/** A per-item failure inside an otherwise answered batch (see `InferencePipeline.infer`'s unwrap). */
export class FailedResult {
  constructor(readonly error: unknown) {}
}

/** Items batch together when they name the same outputs and their inputs agree past the batch dimension. */
function oipKey(request: InferRequest): { key: string; rows: number } | null {
  const rows = rowsOf(request);
  if (rows === null) return null;
  const parts = Object.keys(request.feeds)
    .sort()
    .map((name) => {
      const t = request.feeds[name];
      return `${name}:${t.type}:${t.dims.slice(1).join('x')}`;
    });
  return { key: `oip|${request.outputNames.join(',')}|${parts.join('|')}`, rows };
}

/** The common batch dimension of the request's inputs, or null when they disagree or have none. */
function rowsOf(request: InferRequest): number | null {
  const dims = Object.values(request.feeds).map((t) => (t.dims.length > 0 ? t.dims[0] : -1));
  return dims.length > 0 && dims.every((d) => d === dims[0] && d >= 1) ? dims[0] : null;
}

function stack(tensors: ort.Tensor[]): ort.Tensor {
  const [first] = tensors;
  const rows = tensors.reduce((n, t) => n + t.dims[0], 0);
  const dims = [rows, ...first.dims.slice(1)];
  if (Array.isArray(first.data)) return new ort.Tensor(first.type, tensors.flatMap((t) => t.data as string[]), dims);
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const Ctor = (first.data as Exclude<TensorData, string[]>).constructor as new (n: number) => Exclude<TensorData, string[]> & { set(a: ArrayLike<unknown>, o: number): void };
  const out = new Ctor(total);
  let at = 0;
  for (const t of tensors) {
    out.set(t.data as ArrayLike<unknown>, at);
    at += t.data.length;
  }
  return new ort.Tensor(first.type, out as Exclude<TensorData, string[]>, dims);
}

function sliceRows(tensor: ort.Tensor, row: number, rows: number): ort.Tensor {
  const per = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = (tensor.data as Exclude<TensorData, string[]> | string[]).slice(row * per, (row + rows) * per);
  return new ort.Tensor(tensor.type, data as Exclude<TensorData, string[]>, [rows, ...tensor.dims.slice(1)]);
}
