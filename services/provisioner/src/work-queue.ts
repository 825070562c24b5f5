/**
 * Why a service was woken up. Reconciles are level-triggered, so a wake-up carries no state, only hints:
 * `announce` marks a wake-up by a user intent (the gateway just wrote the record, so its current status is
 * news for subscribers), and the correlation id ties the resulting logs to the request.
 */
export interface Wake {
  announce: boolean;
  correlationId?: string;
}

export const QUIET_WAKE: Wake = { announce: false };

export function mergeWakes(older: Wake, newer: Wake): Wake {
  return { announce: older.announce || newer.announce, correlationId: newer.correlationId ?? older.correlationId };
}

export interface WorkItem {
  serviceId: string;
  wake: Wake;
}

export interface WorkQueueOptions {
  /** First retry delay after a failed reconcile; doubles per consecutive failure. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * A deduplicating work queue in the style of client-go's workqueue: a service waiting in the queue is there
 * once however often it was woken; a service being processed is never handed to a second worker, and a
 * wake-up that arrives meanwhile queues it again for after `done`. Failed items come back with exponential
 * backoff until `forget` clears their failure count.
 */
export class WorkQueue {
  /** Ids ready to hand out, in arrival order (a Set iterates in insertion order). */
  private readonly ready = new Set<string>();
  /** Ids that need a reconcile, with their merged wake-up; a processing id may be dirty again. */
  private readonly dirty = new Map<string, Wake>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Map<string, { timer: NodeJS.Timeout; wake: Wake }>();
  private readonly takers: Array<(item: WorkItem | null) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.retryBaseMs = opts.retryBaseMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
  }

  add(serviceId: string, wake: Wake = QUIET_WAKE): void {
    if (this.closed) return;
    const pending = this.dirty.get(serviceId);
    this.dirty.set(serviceId, pending ? mergeWakes(pending, wake) : wake);
    if (!this.processing.has(serviceId)) {
      this.ready.add(serviceId);
      this.handOut();
    }
  }

  /** Queues the item again after a backoff that grows with its consecutive failures. */
  retryLater(serviceId: string, wake: Wake): number {
    const failures = (this.failures.get(serviceId) ?? 0) + 1;
    this.failures.set(serviceId, failures);
    const delay = Math.min(this.retryBaseMs * 2 ** (failures - 1), this.retryMaxMs);
    if (this.closed) return delay;
    const existing = this.retryTimers.get(serviceId);
    if (existing) {
      existing.wake = mergeWakes(existing.wake, wake);
      return delay;
    }
    const entry = {
      wake,
      timer: setTimeout(() => {
        this.retryTimers.delete(serviceId);
        this.add(serviceId, entry.wake);
      }, delay),
    };
    entry.timer.unref();
    this.retryTimers.set(serviceId, entry);
    return delay;
  }

  /** A success: the next failure starts again from the base delay. */
  forget(serviceId: string): void {
    this.failures.delete(serviceId);
  }

  /** The next item, waiting for one; null once the queue is shut down. */
  take(): Promise<WorkItem | null> {
    const item = this.next();
    if (item || this.closed) return Promise.resolve(item);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  done(serviceId: string): void {
    this.processing.delete(serviceId);
    if (this.dirty.has(serviceId) && !this.closed) {
      this.ready.add(serviceId);
      this.handOut();
    }
    this.notifyIdle();
  }

  /** Nothing queued and nothing processing (pending retries do not count). */
  isIdle(): boolean {
    return this.ready.size === 0 && this.processing.size === 0;
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pendingRetries(): number {
    return this.retryTimers.size;
  }

  /** Drops queued work and pending retries; takers get null. Items being processed still call `done`. */
  shutDown(): void {
    this.closed = true;
    for (const { timer } of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.ready.clear();
    this.dirty.clear();
    for (const taker of this.takers.splice(0)) taker(null);
    this.notifyIdle();
  }

  private next(): WorkItem | null {
    const first = this.ready.values().next();
    if (first.done) return null;
    const serviceId = first.value;
    this.ready.delete(serviceId);
    const wake = this.dirty.get(serviceId) ?? QUIET_WAKE;
    this.dirty.delete(serviceId);
    this.processing.add(serviceId);
    return { serviceId, wake };
  }

  private handOut(): void {
    while (this.takers.length && this.ready.size) {
      this.takers.shift()!(this.next());
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
