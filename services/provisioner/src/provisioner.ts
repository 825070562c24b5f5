import type { EventBus, Subscription } from '@remotegpu/bus';
import type { Runtime } from '@remotegpu/runtime';
import type { Store } from '@remotegpu/store';
import type { Logger } from 'pino';
import { Reconciler, type ReconcileOutcome } from './reconciler.js';
import { QUIET_WAKE, WorkQueue, type Wake } from './work-queue.js';

export interface ProvisionerOptions {
  store: Store;
  bus: EventBus;
  runtime: Runtime;
  logger: Logger;
  now?: () => Date;
  /** Full resync period: repairs missed events and removes orphans (default 10 s). */
  resyncIntervalMs?: number;
  /** Services reconciled in parallel (default 4); one service is never reconciled twice at once. */
  workers?: number;
  /** Backoff of a failed reconcile: first delay, doubling up to the maximum (defaults 200 ms, 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

type ProvisionerState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * The level-triggered control loop of DESIGN §2. Intents, runtime changes and a periodic resync only put
 * service ids into a deduplicating queue; workers reconcile each id against the store and the runtime. The
 * resync at `start()` is what brings services back after a restart of the whole process.
 */
export class Provisioner {
  private readonly store: Store;
  private readonly bus: EventBus;
  private readonly runtime: Runtime;
  private readonly logger: Logger;
  private readonly resyncIntervalMs: number;
  private readonly workerCount: number;
  private readonly reconciler: Reconciler;
  private readonly queue: WorkQueue;
  /** Serializes direct `reconcile()` calls with the workers, per service. */
  private readonly running = new Map<string, Promise<unknown>>();
  private state: ProvisionerState = 'idle';
  private subscription: Subscription | null = null;
  private unsubscribeRuntime: (() => void) | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private workers: Promise<void>[] = [];

  constructor(opts: ProvisionerOptions) {
    this.store = opts.store;
    this.bus = opts.bus;
    this.runtime = opts.runtime;
    this.logger = opts.logger.child({ component: 'provisioner' });
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 10_000;
    this.workerCount = Math.max(1, opts.workers ?? 4);
    this.reconciler = new Reconciler({
      store: opts.store,
      bus: opts.bus,
      runtime: opts.runtime,
      logger: this.logger,
      now: opts.now ?? (() => new Date()),
    });
    this.queue = new WorkQueue({ retryBaseMs: opts.retryBaseMs, retryMaxMs: opts.retryMaxMs });
  }

  /**
   * Subscribes to wake-ups, starts the workers and queues every service once. The runtime is started by the
   * composition root (it is shared with nothing else, but its lifetime is the process's, not the loop's).
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`provisioner cannot start: it is ${this.state}`);
    this.state = 'running';
    this.unsubscribeRuntime = this.runtime.onChange((serviceId) => this.queue.add(serviceId, QUIET_WAKE));
    this.subscription = await this.bus.subscribe(
      'service.intent',
      (intent) => this.queue.add(intent.serviceId, { announce: true, correlationId: intent.correlationId }),
      { group: 'provisioner' },
    );
    for (let i = 0; i < this.workerCount; i++) this.workers.push(this.work());
    await this.resync();
    this.resyncTimer = setInterval(() => {
      this.resync().catch((err: unknown) => this.logger.warn({ err }, 'periodic resync failed'));
    }, this.resyncIntervalMs);
    this.resyncTimer.unref();
    this.logger.info({ workers: this.workerCount, resyncIntervalMs: this.resyncIntervalMs }, 'provisioner started');
  }

  /** Stops taking work, lets in-flight reconciles finish, and drops what was still queued. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.unsubscribeRuntime?.();
    await this.subscription?.unsubscribe().catch((err: unknown) => this.logger.warn({ err }, 'unsubscribe failed'));
    this.queue.shutDown();
    await Promise.all(this.workers);
    await Promise.allSettled(this.running.values());
    this.state = 'stopped';
    this.logger.info('provisioner stopped');
  }

  /** Queues every service the store knows (deleted ones included) and every one the runtime holds. */
  async resync(): Promise<void> {
    const [services, held] = await Promise.all([this.store.services.listForReconcile(), this.runtime.services()]);
    const ids = new Set([...services.map((s) => s.id), ...held]);
    for (const id of ids) this.queue.add(id, QUIET_WAKE);
    this.logger.debug({ services: ids.size }, 'resync queued');
  }

  /** One reconcile now, outside the queue but never beside a worker's reconcile of the same service. */
  reconcile(serviceId: string, wake: Wake = QUIET_WAKE): Promise<ReconcileOutcome> {
    return this.exclusive(serviceId, () => this.reconciler.reconcile(serviceId, wake));
  }

  /** Resolves once nothing is queued or being reconciled (retries waiting for their backoff do not count). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private async work(): Promise<void> {
    for (;;) {
      const item = await this.queue.take();
      if (!item) return;
      try {
        await this.reconcile(item.serviceId, item.wake);
        this.queue.forget(item.serviceId);
      } catch (err) {
        const delayMs = this.queue.retryLater(item.serviceId, item.wake);
        this.logger.warn({ err, serviceId: item.serviceId, retryInMs: delayMs }, 'reconcile failed; retrying');
      } finally {
        this.queue.done(item.serviceId);
      }
    }
  }

  private async exclusive<T>(serviceId: string, task: () => Promise<T>): Promise<T> {
    for (let busy = this.running.get(serviceId); busy; busy = this.running.get(serviceId)) {
      await busy.catch(() => undefined);
    }
    const run = task();
    this.running.set(serviceId, run);
    try {
      return await run;
    } finally {
      if (this.running.get(serviceId) === run) this.running.delete(serviceId);
    }
  }
}
