import type { BatchingConfig } from '@remotegpu/core';

/** One admitted request, already decoded and preprocessed: only what the model run needs is left to do. */
export interface BatchItem {
  /** Items run together only when their keys are equal (OIP: same input shapes past the batch dimension). */
  key: string;
  /** Rows of the batch dimension this item fills (1 for an image; an OIP request may bring several). */
  rows: number;
}

export interface BatchObserver {
  /** Called once per model run, with its row count and how long its oldest item waited in the queue. */
  ran(rows: number, oldestWaitMs: number): void;
}

interface Queued<T extends BatchItem, R> {
  item: T;
  enqueuedAt: number;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/** Runs one batch; must answer one result per item, in order, or throw to fail every item of the batch. */
export type BatchRunner<T extends BatchItem, R> = (items: T[]) => Promise<R[]>;

/**
 * The dynamic batcher: a FIFO of preprocessed requests and ONE model run at a time (a CPU session's intra-op
 * pool is already the whole core budget, and a GPU run is one kernel stream; two concurrent runs only compete).
 * While a run is in progress the queue fills, so under load the next batch is formed as soon as the run ends;
 * at low load the oldest request waits at most `maxQueueDelayMs` for company.
 *
 * A batch takes items of the oldest item's key, in arrival order, up to `maxBatchSize` rows. It starts when
 * those rows reach the maximum, or reach a preferred size (the largest one available is taken), or when the
 * oldest has waited the delay, or when no other request is being preprocessed (none could join), or at once
 * while draining.
 */
export class DynamicBatcher<T extends BatchItem, R> {
  private readonly queue: Queued<T, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  /** Requests admitted and still being decoded/preprocessed: the only company a queued request can expect soon. */
  private incoming = 0;

  constructor(
    private readonly config: BatchingConfig,
    private readonly runner: BatchRunner<T, R>,
    private readonly observer: BatchObserver,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get maxBatchSize(): number {
    return this.config.maxBatchSize;
  }

  /** Requests waiting for a run (not those in the run under way). */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves with this item's own result once the batch it joined has run. `item.rows` must be ≤ maxBatchSize. */
  submit(item: T): Promise<R> {
    if (item.rows < 1 || item.rows > this.config.maxBatchSize) {
      return Promise.reject(new RangeError(`an item of ${item.rows} rows does not fit a batch of at most ${this.config.maxBatchSize}`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: this.now(), resolve, reject });
      this.schedule();
    });
  }

  /**
   * Announces a request that will be submitted once preprocessed (call {@link arrived} after, submitted or not).
   * With nobody announced, a queued request has no company on the way, so it runs at once instead of waiting
   * out the delay: a lone client pays nothing for batching, and under load the delay still gathers a batch.
   */
  expect(): void {
    this.incoming++;
  }

  arrived(): void {
    this.incoming--;
    this.schedule();
  }

  /** Stops waiting for company: what is queued runs now, batch after batch; later submissions run at once. */
  drain(): void {
    this.draining = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const oldest = this.queue[0];
    const { rows, count } = this.collect(oldest.item.key);
    const waited = this.now() - oldest.enqueuedAt;
    const take =
      rows >= this.config.maxBatchSize || this.draining || this.incoming === 0 || waited >= this.config.maxQueueDelayMs
        ? count
        : this.preferredCount(oldest.item.key, rows);
    if (take > 0) {
      this.clearTimer();
      void this.run(take, oldest.item.key, waited);
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.max(0, this.config.maxQueueDelayMs - waited));
    }
  }

  /** How many items of `key` (in order) fit one batch, and their rows. */
  private collect(key: string): { rows: number; count: number } {
    let rows = 0;
    let count = 0;
    for (const q of this.queue) {
      if (q.item.key !== key) continue;
      if (rows + q.item.rows > this.config.maxBatchSize) break;
      rows += q.item.rows;
      count++;
    }
    return { rows, count };
  }

  /** Items that make up the largest preferred size reachable with whole items; 0 when none is. */
  private preferredCount(key: string, available: number): number {
    const preferred = this.config.preferredBatchSizes;
    for (let p = preferred.length - 1; p >= 0; p--) {
      if (preferred[p] > available) continue;
      let rows = 0;
      let count = 0;
      for (const q of this.queue) {
        if (q.item.key !== key) continue;
        rows += q.item.rows;
        count++;
        if (rows >= preferred[p]) break;
      }
      if (rows === preferred[p]) return count;
    }
    return 0;
  }

  private async run(count: number, key: string, oldestWaitMs: number): Promise<void> {
    const batch: Queued<T, R>[] = [];
    for (let i = 0; i < this.queue.length && batch.length < count; ) {
      if (this.queue[i].item.key === key) batch.push(...this.queue.splice(i, 1));
      else i++;
    }
    this.running = true;
    try {
      const rows = batch.reduce((n, q) => n + q.item.rows, 0);
      this.observer.ran(rows, oldestWaitMs);
      let results: R[];
      try {
        results = await this.runner(batch.map((q) => q.item));
        if (results.length !== batch.length) throw new Error(`the batch runner answered ${results.length} results for ${batch.length} items`);
      } catch (err) {
        for (const q of batch) q.reject(err);
        return;
      }
      batch.forEach((q, i) => q.resolve(results[i]));
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
