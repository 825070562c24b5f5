import { batchingToWire } from '@remotegpu/core';
import type { RuntimeServiceSpec } from './runtime.port.js';

/**
 * onnxruntime's intra-op threads for a replica, from its `cpu` request: one per whole requested core (at least
 * one). More threads than cores only make a replica fight its neighbours (and the image decoding of its own
 * requests) for the same cores; fewer leave requested cores idle during a model run. Spinning stays off (see
 * the model server's session options), so idle threads cost nothing. An operator's RGPU_INTRA_OP_THREADS, when
 * inherited, wins (measured in bench/batching).
 */
export function intraOpThreads(cpu: number): number {
  return Math.max(1, Math.floor(cpu + 1e-9));
}

/** The model server's batching variable: the wire form of the version's batching, absent when off. */
export const BATCHING_ENV = 'RGPU_BATCHING';

/** The model server's variables that come from the spec's tuning: batching and threads. */
export function tuningEnv(spec: RuntimeServiceSpec, inherited: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  if (!inherited.RGPU_INTRA_OP_THREADS) env.RGPU_INTRA_OP_THREADS = String(intraOpThreads(spec.cpu));
  // Canonical key order (batchingToWire's): the same batching read back from another store is the same template.
  if (spec.model.batching) env[BATCHING_ENV] = JSON.stringify(batchingToWire(spec.model.batching));
  return env;
}
