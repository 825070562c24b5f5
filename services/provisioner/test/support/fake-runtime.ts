import type {
  ReplicaLogFollow,
  ReplicaLogLine,
  ReplicaObservation,
  Runtime,
  RuntimeCapacity,
  RuntimeCondition,
  RuntimeObservation,
  RuntimeServiceSpec,
} from '@remotegpu/runtime';

/**
 * An in-memory Runtime whose replicas move only when a test says so (`makeReady`, `crash`, `reap`, ...). It
 * unit-tests the reconciler's decisions; the real local runtime runs its own contract suite. It behaves like
 * the Deployment the port describes: a spec that changes only `replicas` keeps the survivors (relabelled with
 * the new generation), a template change adds new replicas beside the old ones until `retireOld`.
 */
interface FakeReplica extends ReplicaObservation {
  template: string;
}

interface FakeService {
  spec: RuntimeServiceSpec | null;
  replicas: FakeReplica[];
  /** A condition set by the test (e.g. crash_loop); GPU conditions are derived. */
  condition: RuntimeCondition | null;
}

export interface FakeRuntimeOptions {
  gpus?: number;
  /** `manual` (default): removed replicas stay `terminating` until `reap`; `instant`: they vanish at once. */
  termination?: 'manual' | 'instant';
}

function templateOf(spec: RuntimeServiceSpec): string {
  const { replicas: _r, generation: _g, ...template } = spec;
  return JSON.stringify(template);
}

export class FakeRuntime implements Runtime {
  readonly kind = 'local' as const;
  readonly calls = { apply: 0, remove: 0, observe: 0 };
  /** `Date.now()` of every apply call. */
  readonly applyTimes: number[] = [];
  /** Highest number of calls for one service that were in flight at the same time. */
  maxConcurrentPerService = 0;
  /** When set, apply waits on it (to hold a reconcile in flight). */
  applyGate: Promise<void> | null = null;
  /** The next N applies throw. */
  failApplies = 0;
  private gpus: number;
  private readonly termination: 'manual' | 'instant';
  private readonly held = new Map<string, FakeService>();
  private readonly listeners = new Set<(serviceId: string) => void>();
  private readonly inFlight = new Map<string, number>();
  private nextReplica = 1;
  private nextPort = 41000;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.gpus = opts.gpus ?? 0;
    this.termination = opts.termination ?? 'manual';
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async apply(spec: RuntimeServiceSpec): Promise<void> {
    await this.tracked(spec.serviceId, async () => {
      this.calls.apply += 1;
      this.applyTimes.push(Date.now());
      if (this.applyGate) await this.applyGate;
      if (this.failApplies > 0) {
        this.failApplies -= 1;
        throw new Error('fake runtime: apply failed');
      }
      this.mutate(spec.serviceId, (svc) => this.converge(svc, spec), true);
    });
  }

  /** As the local runtime: a stopped service keeps nothing. */
  pause(serviceId: string): Promise<void> {
    return this.remove(serviceId);
  }

  async remove(serviceId: string): Promise<void> {
    await this.tracked(serviceId, async () => {
      this.calls.remove += 1;
      const svc = this.held.get(serviceId);
      if (!svc) return;
      this.mutate(serviceId, (s) => {
        s.spec = null;
        s.condition = null;
        if (this.termination === 'instant') s.replicas = [];
        for (const r of s.replicas) this.terminate(r);
      });
      this.dropIfEmpty(serviceId);
    });
  }

  async observe(serviceId: string): Promise<RuntimeObservation> {
    this.calls.observe += 1;
    return this.snapshot(serviceId);
  }

  /** The provisioner never reads logs; the gateway does, from a real runtime. */
  async logs(): Promise<ReplicaLogLine[]> {
    return [];
  }

  async followLogs(): Promise<ReplicaLogFollow> {
    return { close: () => undefined };
  }

  async services(): Promise<string[]> {
    return [...this.held.keys()];
  }

  async capacity(): Promise<RuntimeCapacity> {
    return { gpus: this.gpus, freeGpus: this.gpus - this.usedGpus() };
  }

  onChange(listener: (serviceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- what the test does by hand ----

  /** Makes every starting replica of the service ready (or only `count` of them). */
  makeReady(serviceId: string, count = Infinity): void {
    this.mutate(serviceId, (svc) => {
      for (const r of svc.replicas.filter((x) => x.phase === 'starting' || x.phase === 'restarting').slice(0, count)) {
        r.phase = 'ready';
        r.url = `http://127.0.0.1:${this.nextPort++}`;
        r.device = r.gpus.length ? 'cuda' : 'cpu';
      }
    });
  }

  crash(serviceId: string, replicaId?: string): string {
    let crashed = '';
    if (!this.held.has(serviceId)) throw new Error(`no replicas for ${serviceId}`);
    this.mutate(serviceId, (svc) => {
      const replica = replicaId ? svc.replicas.find((r) => r.replicaId === replicaId) : svc.replicas.find((r) => r.phase === 'ready');
      if (!replica) throw new Error(`no replica to crash in ${serviceId}`);
      replica.phase = 'restarting';
      replica.url = null;
      replica.restarts += 1;
      crashed = replica.replicaId;
    });
    return crashed;
  }

  /** Terminated replicas are gone for good (and their GPUs free). */
  reap(serviceId: string): void {
    this.mutate(serviceId, (svc) => {
      svc.replicas = svc.replicas.filter((r) => r.phase !== 'terminating');
      if (svc.spec) this.converge(svc, svc.spec);
    });
    this.dropIfEmpty(serviceId);
  }

  /** Ends a rollout: replicas of an older template are removed. */
  retireOld(serviceId: string): void {
    this.mutate(serviceId, (svc) => {
      const template = svc.spec ? templateOf(svc.spec) : null;
      svc.replicas = svc.replicas.filter((r) => r.template === template);
    });
  }

  setCondition(serviceId: string, condition: RuntimeCondition | null): void {
    this.mutate(serviceId, (svc) => {
      svc.condition = condition;
    });
  }

  /** More (or fewer) GPUs: pending replicas start when they fit now. */
  setGpus(gpus: number): void {
    this.gpus = gpus;
    for (const [id, svc] of this.held) if (svc.spec) this.mutate(id, (s) => this.converge(s, s.spec!));
  }

  /** A runtime that lost everything (a process restart of the local runtime). */
  forgetEverything(): void {
    this.held.clear();
  }

  replicas(serviceId: string): ReplicaObservation[] {
    return this.snapshot(serviceId).replicas;
  }

  specOf(serviceId: string): RuntimeServiceSpec | null {
    return this.held.get(serviceId)?.spec ?? null;
  }

  // ---- internals ----

  private converge(svc: FakeService, spec: RuntimeServiceSpec): void {
    svc.spec = spec;
    if (spec.gpu > this.gpus) {
      svc.condition = {
        type: 'failed',
        reason: 'gpu_request_exceeds_capacity',
        message: `requests ${spec.gpu} GPUs; this machine has ${this.gpus}`,
      };
      return;
    }
    if (svc.condition?.reason === 'gpu_request_exceeds_capacity') svc.condition = null;
    const template = templateOf(spec);
    const live = svc.replicas.filter((r) => r.phase !== 'terminating' && r.template === template);
    // A scale keeps the survivors: they simply belong to the new generation now.
    for (const r of live) r.generation = spec.generation;
    for (const extra of live.slice(spec.replicas)) svc.replicas = svc.replicas.filter((r) => r !== extra);
    for (let i = live.length; i < spec.replicas; i++) svc.replicas.push(this.newReplica(spec, template));
    for (const r of svc.replicas.filter((x) => x.phase === 'pending')) {
      if (spec.gpu <= this.gpus - this.usedGpus()) {
        r.gpus = this.allocate(spec.gpu);
        r.phase = 'starting';
        r.message = null;
      }
    }
    const waiting = svc.replicas.some((r) => r.phase === 'pending');
    if (waiting) {
      svc.condition = { type: 'waiting', reason: 'insufficient_gpu', message: `waiting for ${spec.gpu} free GPU(s)` };
    } else if (svc.condition?.reason === 'insufficient_gpu') {
      svc.condition = null;
    }
  }

  private newReplica(spec: RuntimeServiceSpec, template: string): FakeReplica {
    const fits = spec.gpu <= this.gpus - this.usedGpus();
    return {
      replicaId: `${spec.serviceId}-r${this.nextReplica++}`,
      generation: spec.generation,
      phase: fits ? 'starting' : 'pending',
      url: null,
      restarts: 0,
      gpus: fits ? this.allocate(spec.gpu) : [],
      device: null,
      message: fits ? null : 'waiting for GPUs',
      template,
    };
  }

  private allocate(count: number): number[] {
    const taken = new Set([...this.held.values()].flatMap((s) => s.replicas.flatMap((r) => r.gpus)));
    const free = Array.from({ length: this.gpus }, (_, i) => i).filter((i) => !taken.has(i));
    return free.slice(0, count);
  }

  private usedGpus(): number {
    let used = 0;
    for (const svc of this.held.values()) for (const r of svc.replicas) used += r.gpus.length;
    return used;
  }

  private terminate(replica: FakeReplica): void {
    replica.phase = 'terminating';
    replica.url = null;
  }

  private dropIfEmpty(serviceId: string): void {
    const svc = this.held.get(serviceId);
    if (svc && !svc.spec && svc.replicas.length === 0) this.held.delete(serviceId);
  }

  private snapshot(serviceId: string): RuntimeObservation {
    const svc = this.held.get(serviceId);
    if (!svc) return { serviceId, generation: null, replicas: [], condition: null };
    return {
      serviceId,
      generation: svc.spec?.generation ?? null,
      replicas: svc.replicas.map(({ template: _t, ...r }) => ({ ...r, gpus: [...r.gpus] })),
      condition: svc.condition ? { ...svc.condition } : null,
    };
  }

  /** Applies a change and tells the listeners only when the observation really changed, as a runtime must. */
  private mutate(serviceId: string, change: (svc: FakeService) => void, create = false): void {
    let svc = this.held.get(serviceId);
    if (!svc) {
      if (!create) return;
      svc = { spec: null, replicas: [], condition: null };
      this.held.set(serviceId, svc);
    }
    const before = JSON.stringify(this.snapshot(serviceId));
    change(svc);
    if (JSON.stringify(this.snapshot(serviceId)) !== before) {
      for (const listener of this.listeners) listener(serviceId);
    }
  }

  private async tracked(serviceId: string, call: () => Promise<void>): Promise<void> {
    const now = (this.inFlight.get(serviceId) ?? 0) + 1;
    this.inFlight.set(serviceId, now);
    this.maxConcurrentPerService = Math.max(this.maxConcurrentPerService, now);
    try {
      await call();
    } finally {
      this.inFlight.set(serviceId, (this.inFlight.get(serviceId) ?? 1) - 1);
    }
  }
}
