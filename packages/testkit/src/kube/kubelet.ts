import { randomBytes } from 'node:crypto';
import type { EventRecorder } from './kube-events.js';
import { condition } from './kube-pods.js';
import { resourceForKind } from './kube-resources.js';
import { nowTimestamp, type KubeStore } from './kube-store.js';
import type { Condition, ContainerSpec, ContainerState, ContainerStatus, Node, Pod } from './kube.types.js';

/**
 * A simulated kubelet for every node: a bound pod gets a sandbox (pod IP from 10.244.0.0/14), its containers
 * start after `startMs`, and it turns Ready after `readyMs` when a container has a readiness or startup probe
 * (at once otherwise). Failures are injected per image or per pod labels: image pulls that fail (ErrImagePull,
 * then ImagePullBackOff, retried with back-off), containers that crash (restartCount grows, lastState.terminated,
 * CrashLoopBackOff) and containers that never pass readiness. With `runPods`, a pod's process really runs and the
 * pod's IP and readiness are that process's.
 */

export type PodFailure =
  | { kind: 'ImagePull'; message?: string }
  | { kind: 'CrashLoop'; exitCode?: number; message?: string; runMs?: number }
  | { kind: 'NeverReady' };

export interface FailureRule {
  /** Containers with this image fail (exact match). */
  image?: string;
  /** Or every container of pods carrying these labels (a pod template's labels). */
  labels?: Record<string, string>;
  failure: PodFailure;
}

export interface RunningPod {
  /** The address the pod is reached on (its podIP), e.g. 127.0.0.1. */
  ip: string;
  port?: number;
  stop(): void | Promise<void>;
  /**
   * Resolves when the process ends by itself: a crash, restarted with back-off. An object carries the termination
   * message the kubelet would read from the container's terminationMessagePath.
   */
  exited?: Promise<number | { exitCode: number; message?: string }>;
}

/**
 * Reasons a kubelet reports in `state.waiting` when a container cannot even be created; a `runPods` rejection
 * whose message starts with one (`CreateContainerConfigError: secret "x" not found`) waits with it instead of
 * counting as a crash, and is retried with back-off.
 */
const WAITING_REASONS = /^(CreateContainerConfigError|CreateContainerError|RunContainerError|InvalidImageName|ErrImagePull|ImagePullBackOff):\s*(.*)$/s;

/** Runs a pod for real; resolves once it is ready to serve, rejects if it cannot start. */
export type RunPod = (pod: Pod) => Promise<RunningPod>;

export interface KubeletTiming {
  startMs: number;
  readyMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

interface ContainerSim {
  spec: ContainerSpec;
  failure?: PodFailure;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  containerID: string;
}

interface PodSim {
  uid: string;
  namespace: string;
  name: string;
  hostIP: string;
  podIP?: string;
  startTime: string;
  containers: ContainerSim[];
  timers: Set<NodeJS.Timeout>;
  handle?: RunningPod;
  backoffs: number;
  stopped: boolean;
}

function hasProbe(c: ContainerSpec): boolean {
  return !!(c.readinessProbe || c.startupProbe);
}

export class Kubelet {
  private readonly podType = resourceForKind('Pod');
  private readonly nodeType = resourceForKind('Node');
  private readonly sims = new Map<string, PodSim>();
  private readonly ipsInUse = new Set<string>();
  private nextIp = 2;

  constructor(
    private readonly store: KubeStore,
    private readonly events: EventRecorder,
    readonly timing: KubeletTiming,
    private readonly failures: FailureRule[],
    private readonly runPods?: RunPod,
  ) {}

  /** Called on every pod change: starts bound pods it does not run yet and stops deleted or terminating ones. */
  observe(pod: Pod, deleted: boolean): void {
    const uid = pod.metadata.uid ?? '';
    const sim = this.sims.get(uid);
    if (deleted || pod.metadata.deletionTimestamp) {
      if (sim) void this.stop(sim);
      return;
    }
    if (!sim && pod.spec.nodeName && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') this.start(pod);
  }

  private failureFor(pod: Pod, container: ContainerSpec): PodFailure | undefined {
    for (let i = this.failures.length - 1; i >= 0; i--) {
      const rule = this.failures[i];
      if (rule.image !== undefined && rule.image !== container.image) continue;
      if (rule.labels && !Object.entries(rule.labels).every(([k, v]) => pod.metadata.labels?.[k] === v)) continue;
      if (rule.image === undefined && !rule.labels) continue;
      return rule.failure;
    }
    return undefined;
  }

  private start(pod: Pod): void {
    const node = this.store.get(this.nodeType, undefined, pod.spec.nodeName ?? '') as Node | undefined;
    const sim: PodSim = {
      uid: pod.metadata.uid ?? '',
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      hostIP: node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '192.168.0.10',
      startTime: nowTimestamp(),
      containers: pod.spec.containers.map((spec) => ({
        spec,
        failure: this.failureFor(pod, spec),
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        containerID: '',
      })),
      timers: new Set(),
      backoffs: 0,
      stopped: false,
    };
    this.sims.set(sim.uid, sim);
    // What a kubelet reports at once: the pod is its, its containers are being created (STATUS ContainerCreating).
    this.writeStatus(sim);
    this.after(sim, this.timing.startMs, () => void this.sandbox(sim, pod));
  }

  private after(sim: PodSim, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      sim.timers.delete(timer);
      if (!sim.stopped) fn();
    }, ms);
    timer.unref();
    sim.timers.add(timer);
  }

  private backoff(sim: PodSim): number {
    const ms = Math.min(this.timing.maxBackoffMs, this.timing.backoffMs * 2 ** sim.backoffs);
    sim.backoffs++;
    return ms;
  }

  private async sandbox(sim: PodSim, pod: Pod): Promise<void> {
    if (!this.runPods) sim.podIP = this.allocateIp();
    for (const c of sim.containers) this.events.record(pod, 'Normal', 'Pulling', `Pulling image "${c.spec.image}"`, 'kubelet', pod.spec.nodeName);
    for (const c of sim.containers) {
      if (c.failure?.kind === 'ImagePull') this.pullFailed(sim, pod, c);
      else this.events.record(pod, 'Normal', 'Pulled', `Successfully pulled image "${c.spec.image}" in 1.021s (1.021s including waiting). Image size: 0 bytes.`, 'kubelet', pod.spec.nodeName);
    }
    const runnable = sim.containers.filter((c) => c.failure?.kind !== 'ImagePull');
    if (!runnable.length) return this.writeStatus(sim);
    if (this.runPods) {
      try {
        const handle = await this.runPods(pod);
        if (sim.stopped) return void handle.stop();
        sim.handle = handle;
        sim.podIP = handle.ip;
        void handle.exited?.then((exit) => {
          const { exitCode, message } = typeof exit === 'number' ? { exitCode: exit, message: undefined } : exit;
          if (!sim.stopped && sim.handle === handle) this.crashed(sim, pod, runnable, exitCode, message ?? `process exited with code ${exitCode}`);
        });
      } catch (error) {
        if (sim.stopped) return;
        const text = error instanceof Error ? error.message : String(error);
        const waiting = WAITING_REASONS.exec(text);
        if (waiting) return this.cannotCreate(sim, pod, runnable, waiting[1], waiting[2]);
        sim.podIP = sim.podIP ?? '127.0.0.1';
        return this.crashed(sim, pod, runnable, 1, text);
      }
    }
    for (const c of runnable) this.run(sim, pod, c);
    this.writeStatus(sim);
  }

  private pullFailed(sim: PodSim, pod: Pod, c: ContainerSim): void {
    const image = c.spec.image;
    const reasonMessage = c.failure?.kind === 'ImagePull' && c.failure.message ? c.failure.message : `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
    c.state = { waiting: { reason: 'ErrImagePull', message: reasonMessage } };
    this.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${reasonMessage}`, 'kubelet', pod.spec.nodeName);
    this.events.record(pod, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet', pod.spec.nodeName);
    this.writeStatus(sim);
    const wait = this.backoff(sim);
    this.after(sim, Math.min(wait, this.timing.backoffMs), () => {
      c.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
      this.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, 'kubelet', pod.spec.nodeName);
      this.events.record(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet', pod.spec.nodeName);
      this.writeStatus(sim);
      this.after(sim, wait, () => this.pullFailed(sim, pod, c));
    });
  }

  private run(sim: PodSim, pod: Pod, c: ContainerSim): void {
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    c.state = { running: { startedAt: nowTimestamp() } };
    c.started = true;
    // A real process (runPods) is started only once it serves, so it is ready at once.
    c.ready = (!!sim.handle || !hasProbe(c.spec)) && c.failure?.kind !== 'NeverReady' && c.failure?.kind !== 'CrashLoop';
    this.events.record(pod, 'Normal', 'Created', `Created container ${c.spec.name}`, 'kubelet', pod.spec.nodeName);
    this.events.record(pod, 'Normal', 'Started', `Started container ${c.spec.name}`, 'kubelet', pod.spec.nodeName);
    if (c.failure?.kind === 'CrashLoop') {
      const failure = c.failure;
      this.after(sim, failure.runMs ?? Math.max(10, this.timing.readyMs / 2), () => this.crashed(sim, pod, [c], failure.exitCode ?? 1, failure.message));
    } else if (!c.ready && c.failure?.kind !== 'NeverReady') {
      this.after(sim, this.timing.readyMs, () => {
        c.ready = true;
        this.writeStatus(sim);
      });
    }
  }

  private cannotCreate(sim: PodSim, pod: Pod, containers: ContainerSim[], reason: string, message: string): void {
    for (const c of containers) {
      c.state = { waiting: { reason, message } };
      c.ready = false;
    }
    this.events.record(pod, 'Warning', 'Failed', `Error: ${message}`, 'kubelet', pod.spec.nodeName);
    this.writeStatus(sim);
    this.after(sim, this.backoff(sim), () => void this.sandbox(sim, pod));
  }

  private crashed(sim: PodSim, pod: Pod, containers: ContainerSim[], exitCode: number, message?: string): void {
    const finishedAt = nowTimestamp();
    const wait = this.backoff(sim);
    for (const c of containers) {
      const startedAt = c.state.running?.startedAt ?? finishedAt;
      c.lastState = { terminated: { exitCode, reason: 'Error', message, startedAt, finishedAt, containerID: c.containerID || `containerd://${randomBytes(32).toString('hex')}` } };
      c.restartCount++;
      c.ready = false;
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(wait / 100) / 10}s restarting failed container=${c.spec.name} pod=${sim.name}_${sim.namespace}(${sim.uid})` } };
      this.events.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${sim.name}_${sim.namespace}(${sim.uid})`, 'kubelet', pod.spec.nodeName);
    }
    this.writeStatus(sim);
    this.after(sim, wait, () => {
      if (this.runPods) {
        // The process is gone: the next attempt starts a new one (a new sandbox, as after a real crash).
        const old = sim.handle;
        sim.handle = undefined;
        void Promise.resolve(old?.stop()).catch(() => undefined);
        return void this.sandbox(sim, pod);
      }
      for (const c of containers) this.run(sim, pod, c);
      this.writeStatus(sim);
    });
  }

  private writeStatus(sim: PodSim): void {
    const pod = this.store.get(this.podType, sim.namespace, sim.name) as Pod | undefined;
    if (!pod || pod.metadata.uid !== sim.uid) return void this.stop(sim);
    const now = nowTimestamp();
    const statuses: ContainerStatus[] = sim.containers.map((c) => ({
      name: c.spec.name,
      image: c.spec.image,
      imageID: c.started ? `docker.io/library/${c.spec.image}@sha256:${'0'.repeat(64)}` : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      ready: c.ready,
      started: !!c.state.running,
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState,
    }));
    const allReady = statuses.every((s) => s.ready);
    const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
    const previous = pod.status?.conditions ?? [];
    const keep = (type: string, status: 'True' | 'False', reason?: string, message?: string): Condition => {
      const before = condition(previous, type);
      const c: Condition = { type, status, lastProbeTime: null, lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now };
      if (reason) c.reason = reason;
      if (message) c.message = message;
      return c;
    };
    const notReady = unready.length ? `containers with unready status: [${unready.join(' ')}]` : undefined;
    const conditions = [
      keep('PodReadyToStartContainers', sim.podIP ? 'True' : 'False'),
      keep('Initialized', 'True'),
      keep('Ready', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', notReady),
      keep('ContainersReady', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', notReady),
      condition(previous, 'PodScheduled') ?? keep('PodScheduled', 'True'),
    ];
    const anyStarted = sim.containers.some((c) => c.started);
    const status = {
      ...pod.status,
      phase: anyStarted ? ('Running' as const) : ('Pending' as const),
      conditions,
      hostIP: sim.hostIP,
      hostIPs: [{ ip: sim.hostIP }],
      ...(sim.podIP ? { podIP: sim.podIP, podIPs: [{ ip: sim.podIP }] } : {}),
      startTime: sim.startTime,
      containerStatuses: statuses,
    };
    this.store.update(this.podType, { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, status });
  }

  private stop(sim: PodSim): Promise<void> {
    if (sim.stopped) return Promise.resolve();
    sim.stopped = true;
    for (const t of sim.timers) clearTimeout(t);
    sim.timers.clear();
    if (sim.podIP && !sim.handle) this.ipsInUse.delete(sim.podIP);
    this.sims.delete(sim.uid);
    return Promise.resolve(sim.handle?.stop()).catch(() => undefined);
  }

  private allocateIp(): string {
    for (;;) {
      const n = this.nextIp++;
      if (this.nextIp > 4 * 65534) this.nextIp = 2;
      const ip = `10.${244 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
      if (n % 256 === 0 || n % 256 === 255 || this.ipsInUse.has(ip)) continue;
      this.ipsInUse.add(ip);
      return ip;
    }
  }

  /** Stops every simulated pod (and every real process of runPods). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.sims.values()].map((sim) => this.stop(sim)));
  }
}
