import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('holds a service once however often it is woken, merging the wake-ups', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a', { announce: true, correlationId: 'req-1' });
    queue.add('a');

    expect(await queue.take()).toEqual({ serviceId: 'a', wake: { announce: true, correlationId: 'req-1' } });
    expect(await queue.take()).toEqual({ serviceId: 'b', wake: { announce: false } });
    expect(queue.isIdle()).toBe(false);
  });

  it('does not hand out a service that is being processed; a wake-up meanwhile queues it for after done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.take();
    queue.add('a');

    let second: unknown = 'not yet';
    void queue.take().then((item) => (second = item));
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe('not yet');

    queue.done(first!.serviceId);
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toEqual({ serviceId: 'a', wake: { announce: false } });
  });

  it('retries with a delay that doubles per consecutive failure and resets on forget', () => {
    const queue = new WorkQueue({ retryBaseMs: 10, retryMaxMs: 35 });
    expect([1, 2, 3, 4].map(() => queue.retryLater('a', { announce: false }))).toEqual([10, 20, 35, 35]);
    queue.forget('a');
    expect(queue.retryLater('a', { announce: false })).toBe(10);
    queue.shutDown();
    expect(queue.pendingRetries).toBe(0);
  });

  it('brings a failed item back after its backoff', async () => {
    const queue = new WorkQueue({ retryBaseMs: 20 });
    queue.add('a');
    const item = await queue.take();
    queue.retryLater('a', item!.wake);
    queue.done('a');
    const started = Date.now();
    expect(await queue.take()).toMatchObject({ serviceId: 'a' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('shutDown releases waiting takers with null, drops queued work and reports idle', async () => {
    const queue = new WorkQueue();
    const waiting = queue.take();
    queue.shutDown();
    expect(await waiting).toBeNull();
    queue.add('a');
    expect(await queue.take()).toBeNull();
    await queue.whenIdle();
  });
});
