import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ReplicaLogFollow,
  ReplicaLogLine,
  ReplicaLogQuery,
  Runtime,
  RuntimeCapacity,
  RuntimeObservation,
  RuntimeServiceSpec,
} from '../runtime.port.js';
import { GpuAllocator, detectGpuCount } from './gpu.allocator.js';
import { resolveOptions, type LocalRuntimeOptions, type ResolvedLocalRuntimeOptions } from './local.options.js';
import { ReplicaRegistry } from './replica.registry.js';
import { ReplicaWorkdirs } from './replica.workdir.js';
import { ServiceController } from './service.controller.js';
import { DEFAULT_LOG_LIMITS, ServiceLogBook } from './replica.logs.js';

type State = 'new' | 'running' | 'stopping' | 'stopped';

/**
 * The `local` runtime (DESIGN §6): every replica is a model-server child process on an ephemeral loopback
 * port, converged per service by a `ServiceController` (Deployment semantics: scale without touching
 * survivors, roll new generations with maxSurge 1 / maxUnavailable 0, restart crashes with backoff).
 *
 * GPUs are the only resource it manages: each replica gets `spec.gpu` whole GPUs via CUDA_VISIBLE_DEVICES.
 * CPU and memory requests are recorded but not enforced here; that is what the Kubernetes runtime does with
 * requests/limits. A single machine with a few replicas does not need cgroups to be useful.
 */
export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  private readonly options: ResolvedLocalRuntimeOptions;
  private readonly registry: ReplicaRegistry;
  private readonly workdirs: ReplicaWorkdirs;
  private readonly controllers = new Map<string, ServiceController>();
  private readonly listeners = new Set<(serviceId: string) => void>();
  /** Kept past a controller (a stopped service's last lines stay readable) until the service is removed. */
  private readonly logBooks = new Map<string, ServiceLogBook>();
  private readonly discardLogsWhenGone = new Set<string>();
  private allocator: GpuAllocator | null = null;
  private state: State = 'new';
  private starting: Promise<void> | null = null;
  private scheduleQueued = false;
  private onEmpty: (() => void) | null = null;
  private stopping: Promise<void> | null = null;

  constructor(options: LocalRuntimeOptions) {
    this.options = resolveOptions(options);
    this.registry = new ReplicaRegistry(this.options.stateDir, this.options.logger);
    this.workdirs = new ReplicaWorkdirs(this.options.stateDir);
  }

  /** Kills replicas a crashed previous run left behind (and clears their directories), then sizes the GPU pool. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const killed = await this.registry.killOrphans();
      await this.workdirs.removeAll();
      // A previous run's log files: nothing serves them any more, and keeping them would grow the disk forever.
      await rm(join(this.options.stateDir, 'logs'), { recursive: true, force: true });
      const gpus = this.options.gpus ?? (await detectGpuCount());
      this.allocator = new GpuAllocator(gpus);
      this.state = 'running';
      this.options.logger.info({ gpus, orphansKilled: killed, stateDir: this.options.stateDir }, 'local runtime started');
    })();
    return this.starting;
  }

  async apply(spec: RuntimeServiceSpec): Promise<void> {
    const allocator = this.running();
    validateSpec(spec);
    let controller = this.controllers.get(spec.serviceId);
    this.discardLogsWhenGone.delete(spec.serviceId);
    if (!controller) {
      controller = this.newController(spec.serviceId, allocator);
      this.controllers.set(spec.serviceId, controller);
    }
    controller.apply(spec);
  }

  /** Starts the termination and returns; `observe` shows the replicas terminating until they are gone. */
  async remove(serviceId: string): Promise<void> {
    if (this.state !== 'stopping') this.running();
    const controller = this.controllers.get(serviceId);
    if (controller) {
      this.discardLogsWhenGone.add(serviceId);
      controller.remove();
    } else {
      this.discardLogs(serviceId);
    }
  }

  /** Replicas are processes: a stopped service keeps nothing here but its replicas' last log lines. */
  async pause(serviceId: string): Promise<void> {
    if (this.state !== 'stopping') this.running();
    this.controllers.get(serviceId)?.remove();
  }

  async logs(serviceId: string, query: ReplicaLogQuery): Promise<ReplicaLogLine[]> {
    return this.logBooks.get(serviceId)?.read(query) ?? [];
  }

  async followLogs(serviceId: string, query: ReplicaLogQuery, onLine: (line: ReplicaLogLine) => void): Promise<ReplicaLogFollow> {
    return this.logBook(serviceId).follow(query, onLine);
  }

  async observe(serviceId: string): Promise<RuntimeObservation> {
    return (
      this.controllers.get(serviceId)?.observe() ?? { serviceId, generation: null, replicas: [], condition: null }
    );
  }

  async services(): Promise<string[]> {
    return [...this.controllers.keys()];
  }

  async capacity(): Promise<RuntimeCapacity> {
    const allocator = this.running();
    return { gpus: allocator.total, freeGpus: allocator.free };
  }

  onChange(listener: (serviceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Terminates every replica and resolves once all processes have exited (SIGKILL bounds the wait). */
  stop(): Promise<void> {
    this.stopping ??= this.terminateAll();
    return this.stopping;
  }

  private async terminateAll(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.state = 'stopping';
    const empty = new Promise<void>((resolve) => {
      this.onEmpty = resolve;
    });
    for (const controller of [...this.controllers.values()]) controller.remove();
    if (this.controllers.size > 0) await empty;
    this.onEmpty = null;
    await this.workdirs.removeAll().catch((err: unknown) => {
      this.options.logger.warn({ err }, 'could not remove the replica directories');
    });
    this.state = 'stopped';
    this.options.logger.info('local runtime stopped');
  }

  private newController(serviceId: string, allocator: GpuAllocator): ServiceController {
    const controller: ServiceController = new ServiceController({
      serviceId,
      options: this.options,
      allocator,
      registry: this.registry,
      workdirs: this.workdirs,
      logs: this.logBook(serviceId),
      changed: () => this.notify(serviceId),
      gpusReleased: () => this.scheduleSoon(),
      gone: () => {
        if (this.controllers.get(serviceId) === controller) {
          this.controllers.delete(serviceId);
          if (this.discardLogsWhenGone.delete(serviceId)) this.discardLogs(serviceId);
          this.notify(serviceId);
        }
        if (this.controllers.size === 0) this.onEmpty?.();
      },
    });
    return controller;
  }

  private logBook(serviceId: string): ServiceLogBook {
    let book = this.logBooks.get(serviceId);
    if (!book) {
      book = new ServiceLogBook(this.options.stateDir, serviceId, DEFAULT_LOG_LIMITS, this.options.logger.child({ serviceId }));
      this.logBooks.set(serviceId, book);
    }
    return book;
  }

  private discardLogs(serviceId: string): void {
    this.logBooks.get(serviceId)?.discard();
    this.logBooks.delete(serviceId);
  }

  private notify(serviceId: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(serviceId);
      } catch (err) {
        this.options.logger.error({ err, serviceId }, 'runtime change listener threw');
      }
    }
  }

  /** Deferred so that a release inside one controller's reconcile never re-enters another controller. */
  private scheduleSoon(): void {
    if (this.scheduleQueued) return;
    this.scheduleQueued = true;
    queueMicrotask(() => {
      this.scheduleQueued = false;
      this.schedulePending();
    });
  }

  /**
   * Starts waiting replicas in order: handover recipients of a rollout first (the GPUs were freed for them),
   * then the longest waiting. A replica that does not fit does not block smaller ones behind it, except a
   * handover recipient, whose GPUs are kept for it.
   */
  private schedulePending(): void {
    const allocator = this.allocator;
    if (!allocator || this.state !== 'running') return;
    const queue = [...this.controllers.values()]
      .flatMap((controller) => controller.pendingReplicas().map((p) => ({ controller, ...p })))
      .sort((a, b) => Number(b.handover) - Number(a.handover) || a.since - b.since);
    for (const entry of queue) {
      if (allocator.free === 0) break;
      const started = entry.controller.startPending(entry.replicaId);
      if (!started && entry.handover) break;
    }
  }

  private running(): GpuAllocator {
    if (this.state !== 'running' || !this.allocator) {
      throw new Error(`the local runtime is ${this.state === 'new' ? 'not started (call start())' : this.state}`);
    }
    return this.allocator;
  }
}

function validateSpec(spec: RuntimeServiceSpec): void {
  const counts = { replicas: spec.replicas, gpu: spec.gpu, generation: spec.generation };
  for (const [field, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`spec.${field} must be a non-negative integer, got ${value}`);
  }
}
