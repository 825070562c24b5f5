import type { BatchObserver } from './batch.queue.js';

/** A Prometheus histogram with fixed buckets: cumulative counts, sum and count, rendered as text. */
class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++;
  }

  render(name: string, labels: string): string {
    const lines = this.buckets.map((b, i) => `${name}_bucket{${labels},le="${b}"} ${this.counts[i]}`);
    lines.push(`${name}_bucket{${labels},le="+Inf"} ${this.count}`, `${name}_sum{${labels}} ${this.sum}`, `${name}_count{${labels}} ${this.count}`);
    return `${lines.join('\n')}\n`;
  }
}

const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const QUEUE_DELAY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];

/** Escapes a label value as the Prometheus text format asks (backslash, quote, newline). */
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The batcher's metrics for this replica's model version. Runs per second is `rate(rgpu_model_runs_total[1m])`,
 * as Prometheus computes rates from counters; the batch size histogram counts rows (images) per model run, so
 * its max bucket shows `max_batch_size` is never exceeded. Unbatched replicas count their runs too (size 1).
 */
export class BatchMetrics implements BatchObserver {
  private readonly size = new Histogram(BATCH_SIZE_BUCKETS);
  private readonly delay = new Histogram(QUEUE_DELAY_BUCKETS);
  private runs = 0;
  private readonly labels: string;

  constructor(model: string, version: string) {
    this.labels = `model="${labelValue(model)}",version="${labelValue(version)}"`;
  }

  ran(rows: number, oldestWaitMs: number): void {
    this.runs++;
    this.size.observe(rows);
    this.delay.observe(oldestWaitMs / 1000);
  }

  render(): string {
    return (
      '# HELP rgpu_model_batch_size Rows (images) per model run.\n' +
      '# TYPE rgpu_model_batch_size histogram\n' +
      this.size.render('rgpu_model_batch_size', this.labels) +
      '# HELP rgpu_model_queue_delay_seconds How long the oldest request of each model run waited in the batch queue.\n' +
      '# TYPE rgpu_model_queue_delay_seconds histogram\n' +
      this.delay.render('rgpu_model_queue_delay_seconds', this.labels) +
      '# HELP rgpu_model_runs_total Model runs (session.run calls); runs per second is its rate.\n' +
      '# TYPE rgpu_model_runs_total counter\n' +
      `rgpu_model_runs_total{${this.labels}} ${this.runs}\n`
    );
  }
}
