import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { ONNXRUNTIME_ENV, type TensorSpec } from '@remotegpu/core';
import { ModelLoadError, type ExecutionProvider, type LoadedModel, type LoadModelOptions, type ModelRunner } from './model.session.js';

export interface PlainTensor {
  type: string;
  data: Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];
  dims: number[];
}

export type WorkerRequest =
  | { kind: 'run'; id: number; feeds: Record<string, PlainTensor>; outputNames: string[] }
  | { kind: 'release' };

export type WorkerReply =
  | { kind: 'loaded'; inputs: TensorSpec[]; outputs: TensorSpec[]; executionProvider: ExecutionProvider; fallbackReason?: string }
  | { kind: 'load_failed'; modelLoadError: boolean; message: string }
  | { kind: 'result'; id: number; outputs: Record<string, PlainTensor> }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'released' };

const toPlain = (t: ort.Tensor): PlainTensor => ({ type: t.type, data: t.data as PlainTensor['data'], dims: [...t.dims] });
const toTensor = (t: PlainTensor): ort.Tensor => new ort.Tensor(t.type as ort.Tensor.Type, t.data as Float32Array, t.dims);

/**
 * Loads the model in a worker thread (session.worker.ts) and answers a {@link LoadedModel} whose session runs
 * there. Runs are queued by the worker's own event loop, one at a time, as a single session on one thread would.
 * Inputs are copied to the worker unless the caller hands them over (`transfer`), which it does for buffers it
 * allocated for this run alone. A worker that dies fails every pending run and then the process (`onFatal`).
 */
export async function loadModelInWorker(opts: LoadModelOptions, onFatal: (err: Error) => void): Promise<LoadedModel> {
  // Telemetry off before onnxruntime creates its environment in the worker (setenv is process-wide).
  Object.assign(process.env, ONNXRUNTIME_ENV);
  const { logger: _logger, ...data } = opts;
  const worker = new Worker(new URL('./session.worker.js', import.meta.url), { workerData: data });
  const pending = new Map<number, { resolve: (r: Record<string, ort.Tensor>) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let released: (() => void) | null = null;
  let dead: Error | null = null;

  // Only the listeners added here are removed: Worker keeps its own (they start and stop its message port).
  let loadListeners: { message: (m: WorkerReply) => void; error: (e: Error) => void; exit: (code: number) => void } | null = null;
  const loaded = await new Promise<Extract<WorkerReply, { kind: 'loaded' }>>((resolve, reject) => {
    loadListeners = {
      message: (msg) => {
        if (msg.kind === 'loaded') resolve(msg);
        else if (msg.kind === 'load_failed') reject(msg.modelLoadError ? new ModelLoadError(msg.message) : new Error(msg.message));
      },
      error: reject,
      exit: (code) => reject(new Error(`the onnxruntime worker exited with ${code} while loading the model`)),
    };
    worker.on('message', loadListeners.message).on('error', loadListeners.error).on('exit', loadListeners.exit);
  }).finally(() => {
    worker.off('message', loadListeners!.message).off('error', loadListeners!.error).off('exit', loadListeners!.exit);
  });
  if (loaded.fallbackReason) opts.logger.warn({ reason: loaded.fallbackReason }, 'falling back to the CPU execution provider');

  const fail = (err: Error) => {
    if (dead) return;
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    released?.();
    onFatal(err);
  };
  worker.on('message', (msg: WorkerReply) => {
    if (msg.kind === 'released') return released?.();
    if (msg.kind !== 'result' && msg.kind !== 'error') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.kind === 'error') p.reject(new Error(msg.message));
    else p.resolve(Object.fromEntries(Object.entries(msg.outputs).map(([n, t]) => [n, toTensor(t)])));
  });
  worker.on('error', (err) => fail(err));
  const onExit = (code: number) => fail(new Error(`the onnxruntime worker exited with ${code}`));
  worker.on('exit', onExit);

  const session: ModelRunner = {
    run(feeds, outputNames, transfer = false) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      const plainFeeds = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toPlain(t)]));
      const buffers = transfer
        ? [...new Set(Object.values(plainFeeds).flatMap((t) => (Array.isArray(t.data) ? [] : [t.data.buffer as ArrayBuffer])))]
        : [];
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ kind: 'run', id, feeds: plainFeeds, outputNames: [...outputNames] } satisfies WorkerRequest, buffers);
      });
    },
    async release() {
      if (dead) return;
      const done = new Promise<void>((resolve) => (released = resolve));
      worker.postMessage({ kind: 'release' } satisfies WorkerRequest);
      await done;
      worker.off('exit', onExit);
      await worker.terminate();
    },
  };
  return { session, inputs: loaded.inputs, outputs: loaded.outputs, executionProvider: loaded.executionProvider, ...(loaded.fallbackReason ? { fallbackReason: loaded.fallbackReason } : {}) };
}
