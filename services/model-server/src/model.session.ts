import { access, constants } from 'node:fs/promises';
import type { Logger } from 'pino';
import ort from 'onnxruntime-node';
import { ONNXRUNTIME_ENV, OIP_DATATYPES, type TensorSpec } from '@remotegpu/core';
import type { DeviceChoice } from './server.config.js';

export type ExecutionProvider = 'cpu' | 'cuda';

/** What the replica needs of a session: runs (optionally handing the input buffers over) and release. */
export interface ModelRunner {
  run(feeds: Record<string, ort.Tensor>, outputNames: readonly string[], transfer?: boolean): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** One ONNX model loaded once for the life of the process; every request shares its session. */
export interface LoadedModel {
  /** The session itself, or its stand-in on the main thread when it runs in a worker (session.worker-client.ts). */
  session: ModelRunner;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  executionProvider: ExecutionProvider;
  /** Why CUDA was wanted but the CPU serves (absent when nothing fell back). */
  fallbackReason?: string;
}

export interface LoadModelOptions {
  path: string;
  device: DeviceChoice;
  gpuAssigned: boolean;
  intraOpThreads?: number;
  logger: Logger;
}

/** A model file that cannot be served: `main.ts` reports it as a configuration error of RGPU_MODEL_PATH. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}


function toTensorSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) return { name: meta.name, datatype: 'UNSUPPORTED', shape: [] };
  // Symbolic dimensions come back as names ("batch"), unknown ones as negative numbers: both are -1 in OIP.
  return {
    name: meta.name,
    datatype: OIP_DATATYPES[meta.type] ?? 'UNSUPPORTED',
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

/** The text of an onnxruntime error without its C++ source location, which helps only its developers. */
export function ortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const cleaned = text.replace(/\/onnxruntime_src\/\S+:\d+\s*/g, '').replace(/\s+/g, ' ').trim();
  return cleaned.length > 300 ? `${cleaned.slice(0, 300)}…` : cleaned;
}

export async function loadModel(opts: LoadModelOptions): Promise<LoadedModel> {
  try {
    await access(opts.path, constants.R_OK);
  } catch {
    throw new ModelLoadError(`cannot read the model file ${opts.path}`);
  }
  // onnxruntime's telemetry off (see ONNXRUNTIME_ENV): read when the first session below creates its environment,
  // so setting it here still counts, however the replica was started (the local runtime sets it, Kubernetes may not).
  Object.assign(process.env, ONNXRUNTIME_ENV);
  // onnxruntime writes its own coloured, non-JSON lines to stderr; its errors reach us as exceptions anyway.
  ort.env.logLevel = 'fatal';
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 4,
    ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    // onnxruntime's idle pool threads spin-wait by default: on a machine shared by several replicas, the router
    // and the image decoding, that burns the CPU the others need (measured: router throughput vs nginx).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };

  let fallbackReason: string | undefined;
  const wantCuda = opts.device === 'cuda' || (opts.device === 'auto' && opts.gpuAssigned);
  if (wantCuda) {
    try {
      // Device 0 is the first GPU that CUDA_VISIBLE_DEVICES exposes; the CPU EP takes any node CUDA cannot run.
      const session = await ort.InferenceSession.create(opts.path, { ...base, executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] });
      return describe(session, 'cuda');
    } catch (err) {
      const reason = ortReason(err);
      // The usual cause: onnxruntime-node ships CPU binaries and downloads its CUDA ones at install time.
      const hint = /failed to load shared library/i.test(reason)
        ? " (onnxruntime-node's CUDA provider libraries or the CUDA/cuDNN runtime are not installed)"
        : '';
      fallbackReason = `CUDA execution provider unavailable: ${reason}${hint}`;
      opts.logger.warn({ reason: fallbackReason }, 'falling back to the CPU execution provider');
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(opts.path, { ...base, executionProviders: ['cpu'] });
  } catch (err) {
    throw new ModelLoadError(`onnxruntime cannot load ${opts.path}: ${ortReason(err)}`, { cause: err });
  }
  return describe(session, 'cpu', fallbackReason);
}

function describe(session: ort.InferenceSession, executionProvider: ExecutionProvider, fallbackReason?: string): LoadedModel {
  return {
    session: {
      run: (feeds, outputNames) => session.run(feeds, [...outputNames]) as Promise<Record<string, ort.Tensor>>,
      release: () => session.release(),
    },
    inputs: session.inputMetadata.map(toTensorSpec),
    outputs: session.outputMetadata.map(toTensorSpec),
    executionProvider,
    ...(fallbackReason ? { fallbackReason } : {}),
  };
}
