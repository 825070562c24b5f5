import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import { loadModel, ModelLoadError, type LoadModelOptions } from './model.session.js';
import type { PlainTensor, WorkerReply, WorkerRequest } from './session.worker-client.js';

/**
 * The replica's onnxruntime session, on its own thread: onnxruntime-node runs `session.run` on the calling
 * thread's event loop (measured: a 120 ms batch let a 1 ms timer fire once), so on the main thread every model run
 * would stall HTTP parsing, JSON decoding and the hand-off of images to libvips. Here the main thread keeps
 * admitting and preprocessing the next requests while a batch runs.
 */
const port = parentPort!;
const options = workerData as Omit<LoadModelOptions, 'logger'>;

const plain = (t: ort.Tensor): PlainTensor => ({ type: t.type, data: t.data as PlainTensor['data'], dims: [...t.dims] });

try {
  // The main thread logs the fallback reason it gets back; this logger stays silent.
  const model = await loadModel({ ...options, logger: pino({ level: 'silent' }) });
  port.postMessage({
    kind: 'loaded',
    inputs: model.inputs,
    outputs: model.outputs,
    executionProvider: model.executionProvider,
    fallbackReason: model.fallbackReason,
  } satisfies WorkerReply);
  port.on('message', (msg: WorkerRequest) => {
    if (msg.kind === 'release') {
      void model.session.release().finally(() => port.postMessage({ kind: 'released' } satisfies WorkerReply));
      return;
    }
    void (async () => {
      try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as Float32Array, t.dims);
        const results = await model.session.run(feeds, msg.outputNames);
        const outputs: Record<string, PlainTensor> = {};
        for (const name of msg.outputNames) outputs[name] = plain(results[name]);
        port.postMessage({ kind: 'result', id: msg.id, outputs } satisfies WorkerReply);
      } catch (err) {
        port.postMessage({ kind: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
      }
    })();
  });
} catch (err) {
  port.postMessage({
    kind: 'load_failed',
    modelLoadError: err instanceof ModelLoadError,
    message: err instanceof Error ? err.message : String(err),
  } satisfies WorkerReply);
}
