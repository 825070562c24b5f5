import type { Logger } from 'pino';
import type { RuntimeCondition, RuntimeObservation, RuntimeServiceSpec } from '../runtime.port.js';
import type { GpuAllocator } from './gpu.allocator.js';
import type { ResolvedLocalRuntimeOptions } from './local.options.js';
import { replicaEnv, templateOf } from './replica.env.js';
import { artifactTokenEnv } from '../model-artifact.env.js';
import { ReplicaProcess, type ReplicaExit } from './replica.process.js';
import type { ReplicaRegistry } from './replica.registry.js';
import type { ReplicaWorkdirs } from './replica.workdir.js';
import { planRollout } from './rollout.plan.js';
import { newReplica, toObservation, type Replica } from './replica.state.js';
import { conditionOf } from './service.condition.js';
import type { ServiceLogBook } from './replica.logs.js';

export interface ServiceControllerDeps {
  serviceId: string;
  options: ResolvedLocalRuntimeOptions;
  allocator: GpuAllocator;
  registry: ReplicaRegistry;
  workdirs: ReplicaWorkdirs;
  /** Where the replicas' output goes (`Runtime.logs()`). */
  logs: ServiceLogBook;
  /** The observation may have changed. */
  changed(): void;
  /** GPUs went back to the pool: pending replicas (of any service) may start now. */
  gpusReleased(): void;
  /** Removed and every process exited: the runtime forgets this service. */
  gone(): void;
}

/**
 * Converges one service's replicas (child processes) on its desired spec, like a Deployment controller:
 * every event (apply, remove, ready, exit) runs `reconcile`, which plans from the current state alone.
 * Single-threaded by construction: process callbacks arrive on the event loop, never inside a reconcile.
 */
export class ServiceController {
  private desired: RuntimeServiceSpec | null = null;
  private desiredTemplate = '';
  private generation: number | null = null;
  private replicas: Replica[] = [];
  private condition: RuntimeCondition | null = null;
  private seq = 0;
  private lastSnapshot = '';
  private readonly logger: Logger;

  constructor(private readonly deps: ServiceControllerDeps) {
    this.logger = deps.options.logger.child({ serviceId: deps.serviceId });
  }

  apply(spec: RuntimeServiceSpec): void {
    if (this.desired !== null && this.generation !== null && spec.generation < this.generation) {
      // A late writer (a second provisioner, a retried call) must not roll the service back.
      this.logger.info({ stale: spec.generation, applied: this.generation }, 'ignoring a spec older than the applied one');
      return;
    }
    this.desired = spec;
    this.desiredTemplate = templateOf(spec);
    this.generation = spec.generation;
    for (const replica of this.replicas) {
      if (replica.template === this.desiredTemplate) replica.spec = spec;
    }
    this.reconcile();
  }

  remove(): void {
    this.desired = null;
    this.reconcile();
  }

  observe(): RuntimeObservation {
    return {
      serviceId: this.deps.serviceId,
      generation: this.generation,
      replicas: this.replicas.map(toObservation),
      condition: this.condition,
    };
  }

  pendingReplicas(): { replicaId: string; since: number; handover: boolean }[] {
    return this.replicas
      .filter((r) => r.phase === 'pending')
      .map((r) => ({ replicaId: r.id, since: r.pendingSince, handover: r.handover }));
  }

  /** Starts a pending replica if its GPUs are free now; false when they are not. */
  startPending(replicaId: string): boolean {
    const replica = this.replicas.find((r) => r.id === replicaId && r.phase === 'pending');
    if (!replica || !this.place(replica)) return false;
    this.reconcile();
    return true;
  }

  private reconcile(): void {
    // Terminations and creations change the next plan; a handful of rounds reaches a fixed point.
    for (let round = 0; round < 10; round++) {
      const plan = this.plan();
      if (plan.create === 0 && plan.terminate.length === 0) break;
      for (const id of plan.terminate) {
        const replica = this.replicas.find((r) => r.id === id);
        if (replica) this.terminate(replica);
      }
      if (plan.handover) {
        for (const r of this.replicas) if (r.phase === 'pending' && r.template === this.desiredTemplate) r.handover = true;
      }
      for (let i = 0; i < plan.create; i++) this.create();
    }
    this.refresh();
  }

  private plan(): ReturnType<typeof planRollout> {
    const desired = this.desired;
    if (!desired) {
      const live = this.replicas.filter((r) => r.phase !== 'terminating');
      return { create: 0, terminate: live.map((r) => r.id), handover: null };
    }
    return planRollout({
      desired: desired.replicas,
      replicas: this.replicas.map((r) => ({
        id: r.id,
        seq: r.seq,
        current: r.template === this.desiredTemplate,
        phase: r.phase,
        gpus: r.gpus.length,
      })),
      canCreate: desired.gpu <= this.deps.allocator.total,
      gpuPerReplica: desired.gpu,
      freeGpus: this.deps.allocator.free,
    });
  }

  private create(): void {
    const spec = this.desired!;
    const replica = newReplica(this.deps.serviceId, ++this.seq, spec, this.desiredTemplate);
    this.replicas.push(replica);
    if (!this.place(replica)) {
      const { allocator } = this.deps;
      replica.message = `waiting for ${spec.gpu} free GPUs (${allocator.free} of ${allocator.total} free)`;
    }
  }

  /** Takes the replica's GPUs and starts it; false (still pending) when not enough are free. */
  private place(replica: Replica): boolean {
    const gpus = this.deps.allocator.acquire(replica.spec.gpu);
    if (!gpus) return false;
    replica.gpus = gpus;
    replica.handover = false;
    this.launch(replica);
    return true;
  }

  private launch(replica: Replica): void {
    const { options, registry, workdirs } = this.deps;
    const { command, args } = options.modelServer;
    replica.phase = 'starting';
    replica.url = null;
    replica.device = null;
    replica.message = null;
    const proc: ReplicaProcess = new ReplicaProcess({
      command,
      args,
      env: replicaEnv(
        options.env,
        replica.spec,
        replica.gpus,
        workdirs.prepare(replica.id),
        artifactTokenEnv(replica.spec.model, options.artifactTokens),
      ),
      startupTimeoutMs: options.startupTimeoutMs,
      readinessTimeoutMs: options.readinessTimeoutMs,
      readinessPollMs: options.readinessPollMs,
      logger: this.logger.child({ replicaId: replica.id }),
      onListening: ({ device }) => {
        if (replica.process !== proc) return;
        replica.device = device;
        this.refresh();
      },
      onOutput: (stream, line) => this.deps.logs.append(replica.id, stream, line),
      onReady: (url) => this.onReady(replica, proc, url),
      onExit: (exit) => this.onExit(replica, proc, exit),
    });
    replica.process = proc;
    if (proc.pid !== null) {
      registry.add({ pid: proc.pid, serviceId: this.deps.serviceId, replicaId: replica.id, command: [command, ...args] });
    }
  }

  private onReady(replica: Replica, proc: ReplicaProcess, url: string): void {
    if (replica.process !== proc || replica.phase !== 'starting') return;
    replica.phase = 'ready';
    replica.url = url;
    replica.readySince = Date.now();
    replica.failedStarts = 0;
    replica.listenedInFailedStarts = false;
    replica.lastFailure = null;
    replica.lastFailureCause = null;
    this.reconcile();
  }

  private onExit(replica: Replica, proc: ReplicaProcess, exit: ReplicaExit): void {
    if (proc.pid !== null) this.deps.registry.delete(proc.pid);
    if (replica.process !== proc) return;
    replica.process = null;
    replica.url = null;
    if (replica.phase === 'terminating') {
      this.drop(replica);
    } else {
      this.scheduleRestart(replica, exit);
    }
    this.reconcile();
  }

  /** A crash: restart after an exponential backoff that resets once the replica had been ready for a while. */
  private scheduleRestart(replica: Replica, exit: ReplicaExit): void {
    const { backoff } = this.deps.options;
    if (!exit.ready) {
      replica.failedStarts += 1;
      replica.listenedInFailedStarts ||= exit.listened;
      replica.lastFailure = exit.message;
      replica.lastFailureCause = exit.cause;
    }
    if (replica.readySince !== null && Date.now() - replica.readySince >= backoff.resetAfterMs) replica.backoffStep = 0;
    replica.readySince = null;
    const delay = Math.min(backoff.initialMs * 2 ** replica.backoffStep, backoff.maxMs);
    replica.backoffStep += 1;
    replica.phase = 'restarting';
    replica.device = null;
    replica.message = `${exit.message}; restarting in ${delay} ms`;
    this.logger.warn({ replicaId: replica.id, reason: exit.message, delayMs: delay }, 'replica crashed');
    replica.restartTimer = setTimeout(() => {
      replica.restartTimer = null;
      replica.restarts += 1;
      this.launch(replica);
      this.refresh();
    }, delay);
  }

  private terminate(replica: Replica): void {
    if (replica.restartTimer) clearTimeout(replica.restartTimer);
    replica.restartTimer = null;
    if (!replica.process) {
      this.drop(replica);
      return;
    }
    replica.phase = 'terminating';
    replica.url = null;
    replica.message = null;
    replica.process.terminate(this.deps.options.gracePeriodMs);
  }

  private drop(replica: Replica): void {
    this.replicas = this.replicas.filter((r) => r !== replica);
    this.deps.logs.exited(replica.id);
    this.deps.workdirs.remove(replica.id).catch((err: unknown) => {
      this.logger.warn({ err, replicaId: replica.id }, 'could not remove the replica directory');
    });
    if (replica.gpus.length) {
      this.deps.allocator.release(replica.gpus);
      replica.gpus = [];
      this.deps.gpusReleased();
    }
  }

  /** Recomputes the condition and tells listeners when anything observable changed. */
  private refresh(): void {
    this.condition = this.desired
      ? conditionOf({
          spec: this.desired,
          template: this.desiredTemplate,
          replicas: this.replicas,
          allocator: this.deps.allocator,
          crashLoopLimit: this.deps.options.crashLoopLimit,
        })
      : null;
    const snapshot = JSON.stringify(this.observe());
    if (snapshot !== this.lastSnapshot) {
      this.lastSnapshot = snapshot;
      this.deps.changed();
    }
    if (this.desired === null && this.replicas.length === 0) this.deps.gone();
  }

}
