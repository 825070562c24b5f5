import type { Command } from 'commander';
import { intOption, UsageError } from './context.js';

/** A version's `batching` as the API shows it (README "Dynamic batching"); null: off. */
export interface BatchingDto {
  max_batch_size: number;
  max_queue_delay_ms: number;
  preferred_batch_sizes: number[];
}

/** What the batching flags parse to (commander's camelCase of the option names). */
export interface BatchingFlags {
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  preferredBatchSizes?: number[];
}

/** What the API is sent: the delay and preferred sizes are optional there (5 ms and none by default). */
export type BatchingBody = Partial<BatchingDto> & { max_batch_size: number };

/**
 * The same three flags on `models upload` and `models batching`, like `--replicas`/`--memory` on services. Only the
 * syntax is checked here (whole numbers); the bounds are the gateway's rule, so its 400 names what is wrong and the
 * CLI cannot drift from it.
 */
export function addBatchingOptions(cmd: Command): Command {
  return cmd
    .option('--max-batch-size <n>', 'dynamic batching: at most n images per model run (1…256; 1 = off)', intOption('--max-batch-size', 0))
    .option('--max-queue-delay-ms <ms>', 'with --max-batch-size: longest wait for a batch to fill (default 5)', intOption('--max-queue-delay-ms', 0))
    .option('--preferred-batch-sizes <list>', 'with --max-batch-size: sizes that start a run at once, ascending (4,8)', preferredSizesOption);
}

function preferredSizesOption(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d{1,10}$/.test(p))) throw new UsageError(`--preferred-batch-sizes must be a comma list of whole numbers such as 4,8, not "${v}"`);
  return parts.map(Number);
}

/** The `batching` to send, or undefined when no batching flag was given. */
export function batchingOf(o: BatchingFlags): BatchingBody | undefined {
  if (o.maxBatchSize === undefined) {
    if (o.maxQueueDelayMs !== undefined || o.preferredBatchSizes !== undefined)
      throw new UsageError('--max-queue-delay-ms and --preferred-batch-sizes need --max-batch-size');
    return undefined;
  }
  const body: BatchingBody = { max_batch_size: o.maxBatchSize };
  if (o.maxQueueDelayMs !== undefined) body.max_queue_delay_ms = o.maxQueueDelayMs;
  if (o.preferredBatchSizes !== undefined) body.preferred_batch_sizes = o.preferredBatchSizes;
  return body;
}

/** `max 16, delay 5ms, preferred 4,8`, or `off`. */
export function batchingText(b: BatchingDto | null | undefined): string {
  if (!b) return 'off';
  const preferred = b.preferred_batch_sizes.length ? `, preferred ${b.preferred_batch_sizes.join(',')}` : '';
  return `max ${b.max_batch_size}, delay ${b.max_queue_delay_ms}ms${preferred}`;
}
