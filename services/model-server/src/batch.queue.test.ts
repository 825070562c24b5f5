import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchItem } from './batch.queue.js';

interface Item extends BatchItem {
  n: number;
}

function recorder() {
  const runs: number[][] = [];
  const observed: number[] = [];
  return { runs, observed, observer: { ran: (rows: number) => observed.push(rows) } };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('DynamicBatcher', () => {
  it('a failed run fails only the requests in it; the next batch runs and answers', async () => {
    const { runs, observer } = recorder();
    let calls = 0;
    const batcher = new DynamicBatcher<Item, number>({ maxBatchSize: 2, maxQueueDelayMs: 50, preferredBatchSizes: [] }, async (items) => {
      runs.push(items.map((i) => i.n));
      await tick(5);
      if (++calls === 1) throw new Error('boom');
      return items.map((i) => i.n * 10);
    }, observer);
    batcher.expect();
    const pending = Promise.allSettled([1, 2, 3, 4].map((n) => batcher.submit({ key: 'k', rows: 1, n })));
    batcher.arrived();
    const settled = await pending;
    expect(runs).toEqual([[1, 2], [3, 4]]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe('boom');
    expect(settled.slice(2).map((s) => (s as PromiseFulfilledResult<number>).value)).toEqual([30, 40]);
  });

  it('starts at a preferred size without waiting, never mixes keys, and counts rows against max_batch_size', async () => {
    const { runs, observed, observer } = recorder();
    const batcher = new DynamicBatcher<Item, number>({ maxBatchSize: 4, maxQueueDelayMs: 1000, preferredBatchSizes: [2] }, async (items) => {
      runs.push(items.map((i) => i.n));
      return items.map((i) => i.n);
    }, observer);
    batcher.expect(); // company is always on the way: only sizes (or the 1 s delay) start a run
    const started = performance.now();
    const answers = Promise.all([
      batcher.submit({ key: 'a', rows: 1, n: 1 }),
      batcher.submit({ key: 'b', rows: 3, n: 2 }),
      batcher.submit({ key: 'a', rows: 1, n: 3 }),
      batcher.submit({ key: 'b', rows: 1, n: 4 }),
    ]);
    await tick(20);
    // 'a' reached the preferred 2 at once; 'b' reached the maximum 4 rows (3 + 1).
    expect(runs).toEqual([[1, 3], [2, 4]]);
    expect(observed).toEqual([2, 4]);
    batcher.arrived();
    expect(await answers).toEqual([1, 2, 3, 4]);
    expect(performance.now() - started).toBeLessThan(500);
    await expect(batcher.submit({ key: 'a', rows: 5, n: 9 })).rejects.toThrow(/does not fit a batch of at most 4/);
  });

  it('drain runs what is queued at once instead of waiting out the delay', async () => {
    const { runs, observer } = recorder();
    const batcher = new DynamicBatcher<Item, number>({ maxBatchSize: 8, maxQueueDelayMs: 10_000, preferredBatchSizes: [] }, async (items) => {
      runs.push(items.map((i) => i.n));
      return items.map((i) => i.n);
    }, observer);
    batcher.expect();
    const answers = Promise.all([1, 2, 3].map((n) => batcher.submit({ key: 'k', rows: 1, n })));
    await tick(20);
    expect(runs).toEqual([]);
    batcher.drain();
    expect(await answers).toEqual([1, 2, 3]);
    expect(runs).toEqual([[1, 2, 3]]);
  });
});
