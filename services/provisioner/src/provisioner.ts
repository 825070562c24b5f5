import type { EventBus, Subscription } from '@remotegpu/bus';
import type { EventMap, EventName, ServiceIntentEvent } from '@remotegpu/core';
import type { Runtime } from '@remotegpu/runtime';
import type { Store } from '@remotegpu/store';
import type { Logger } from 'pino';
import { Reconciler, type ReconcileOutcome } from './reconciler.js';
import type { ArtifactDelivery } from './artifact.delivery.js';
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
  /**
   * Durable intents (the NATS JetStream bus): an intent is acknowledged only once a reconcile of its service that
   * started after it arrived has finished, and a failed one is redelivered with the bus's backoff, at most
   * `maxDeliver` deliveries; after the last one the service shows `reconcile_failing`. Absent (the in-process bus
   * of `npm start`, where nothing survives a crash anyway) the handler only queues the wake-up, so one slow
   * reconcile never holds up the intents of other services in the bus's mailbox.
   */
  durableIntents?: { maxDeliver: number };
  /** How replicas get their model (default `file`). */
  artifactDelivery?: ArtifactDelivery;
}

/** Why an intent was not acknowledged: this provisioner stopped (lost its leadership) before reconciling it. */
export class ProvisionerStoppedError extends Error {
  constructor() {
    super('the provisioner stopped before reconciling this intent');
    this.name = 'ProvisionerStoppedError';
  }
}

/** Settles the bus delivery of an intent once the reconcile it asked for is over. */
interface IntentAck {
  resolve(): void;
  reject(err: unknown): void;
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
  private readonly durableIntents: { maxDeliver: number } | undefined;
  /** Intents waiting for the next reconcile of their service to start; taken by the worker that starts it. */
  private readonly waitingAcks = new Map<string, IntentAck[]>();

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
      artifactDelivery: opts.artifactDelivery,
    });
    this.queue = new WorkQueue({ retryBaseMs: opts.retryBaseMs, retryMaxMs: opts.retryMaxMs });
    this.durableIntents = opts.durableIntents;
  }

  /**
   * Subscribes to wake-ups, starts the workers and queues every service once. The runtime is started by the
   * composition root (it is shared with nothing else, but its lifetime is the process's, not the loop's).
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`provisioner cannot start: it is ${this.state}`);
    this.state = 'running';
    this.unsubscribeRuntime = this.runtime.onChange((serviceId) => this.queue.add(serviceId, QUIET_WAKE));
    const durable = this.durableIntents;
    this.subscription = await this.bus.subscribe(
      'service.intent',
      durable ? (intent) => this.intentAcked(intent) : (intent) => this.queue.add(intent.serviceId, wakeOf(intent)),
      durable
        ? { group: 'provisioner', maxDeliver: durable.maxDeliver, onGiveUp: (event, error, deliveries) => this.giveUp(event, error, deliveries) }
        : { group: 'provisioner' },
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
    // Unacknowledged intents go back to the bus at once (another provisioner takes them), not after AckWait.
    this.rejectWaitingAcks();
    await this.subscription?.unsubscribe().catch((err: unknown) => this.logger.warn({ err }, 'unsubscribe failed'));
    this.queue.shutDown();
    await Promise.all(this.workers);
    await Promise.allSettled(this.running.values());
    this.rejectWaitingAcks();
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
      // Taken as the reconcile starts: an intent arriving from now on waits for the next one (the queue has
      // marked the service dirty), since this reconcile may already have read the record the intent announces.
      const acks = this.waitingAcks.get(item.serviceId) ?? [];
      this.waitingAcks.delete(item.serviceId);
      try {
        await this.reconcile(item.serviceId, item.wake);
        this.queue.forget(item.serviceId);
        for (const ack of acks) ack.resolve();
      } catch (err) {
        const delayMs = this.queue.retryLater(item.serviceId, item.wake);
        this.logger.warn(
          { err, serviceId: item.serviceId, correlationId: item.wake.correlationId, retryInMs: delayMs, intents: acks.length },
          'reconcile failed; retrying',
        );
        for (const ack of acks) ack.reject(err);
      } finally {
        this.queue.done(item.serviceId);
      }
    }
  }

  /** A durable intent: queued like any wake-up, acknowledged by the outcome of the reconcile it causes. */
  private intentAcked(intent: ServiceIntentEvent): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new ProvisionerStoppedError());
    const done = new Promise<void>((resolve, reject) => {
      const waiting = this.waitingAcks.get(intent.serviceId) ?? [];
      waiting.push({ resolve, reject });
      this.waitingAcks.set(intent.serviceId, waiting);
    });
    this.queue.add(intent.serviceId, wakeOf(intent));
    return done;
  }

  /**
   * The bus delivered an intent for the last time and its reconcile still failed: say so on the service (DESIGN
   * §2.1: never a silent drop). The queue's retries and the periodic resync keep reconciling it.
   */
  private async giveUp(event: EventMap[EventName], error: unknown, deliveries: number): Promise<void> {
    if (!('intent' in event)) return;
    const log = this.logger.child({ serviceId: event.serviceId, ...(event.correlationId ? { correlationId: event.correlationId } : {}) });
    if (error instanceof ProvisionerStoppedError) {
      // Not a failure of the service: its last delivery met a provisioner on its way out. The next leader's resync
      // reconciles every service, this one included.
      log.warn({ deliveries }, 'intent given up while the provisioner stopped; the resync will reconcile it');
      return;
    }
    log.error({ err: error, deliveries }, 'intent given up after its last delivery; the service shows reconcile_failing');
    await this.exclusive(event.serviceId, () =>
      this.reconciler.markFailing(event.serviceId, { error, deliveries, correlationId: event.correlationId }),
    );
  }

  private rejectWaitingAcks(): void {
    const stopped = new ProvisionerStoppedError();
    for (const acks of this.waitingAcks.values()) for (const ack of acks) ack.reject(stopped);
    this.waitingAcks.clear();
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

function wakeOf(intent: ServiceIntentEvent): Wake {
  return { announce: true, correlationId: intent.correlationId };
}
