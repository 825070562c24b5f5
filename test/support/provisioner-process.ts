import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { connectBus, type EventBus } from '@remotegpu/bus';
import type { EventMap, EventName } from '@remotegpu/core';
import { openStore, type Store } from '@remotegpu/store';
import { NATS_URL } from '@remotegpu/testkit';
import type { DistributedStack, ServiceProcess } from './distributed-stack.js';
import { listReplicaProcesses } from './replicas.js';

/** What a provisioner's `/readyz` says about itself. */
export interface ProvisionerReadiness {
  status: string;
  role: 'leader' | 'standby' | 'stopped';
  holder: string;
  checks: { nats: boolean; store: boolean };
}

export async function readinessOf(proc: ServiceProcess): Promise<ProvisionerReadiness> {
  const res = await fetch(`${proc.url}/readyz`);
  return (await res.json()) as ProvisionerReadiness;
}

/** The stack's provisioner processes split by the role each reports (exactly one leader expected). */
export async function provisionerRoles(stack: DistributedStack): Promise<{ leaders: ServiceProcess[]; standbys: ServiceProcess[] }> {
  const live = stack.provisioners.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const roles = await Promise.all(live.map(async (p) => ({ p, role: (await readinessOf(p)).role })));
  return { leaders: roles.filter((r) => r.role === 'leader').map((r) => r.p), standbys: roles.filter((r) => r.role === 'standby').map((r) => r.p) };
}

/** The `became leader` lines a provisioner logged (the lease's takeover record: `at` is its wall clock). */
export function becameLeaderLines(proc: ServiceProcess): { at: string; previousHolder: string | null; previousHolderSilentMs: number }[] {
  return proc.logs().filter((l) => l.msg === 'became leader') as unknown as { at: string; previousHolder: string | null; previousHolderSilentMs: number }[];
}

/** The stack's SQLite file, opened from the test as one more process would (WAL: readers and writers side by side). */
export function openStackStore(stack: DistributedStack): Promise<Store> {
  return openStore(`sqlite:${stack.dataDir}/rgpu.db`);
}

/** The stack's JetStream bus, as one more process of the platform would connect to it. */
export function connectStackBus(stack: DistributedStack): Promise<EventBus> {
  return connectBus({ natsUrl: NATS_URL, connectionName: 'test', nats: { streamName: stack.streamName, subjectPrefix: stack.subjectPrefix } });
}

/**
 * Puts an event on the stack's stream again under a fresh `Nats-Msg-Id`, so JetStream's de-duplication cannot
 * drop it: what consumers see when a publisher's retry or a redelivery hands them the same event twice. The
 * subject follows the bus adapter's scheme (`<prefix>.svc.<intent|status>.<workspace>.<service>`).
 */
export async function republishRaw<K extends EventName>(stack: DistributedStack, name: K, events: readonly EventMap[K][]): Promise<void> {
  const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
  try {
    const js = nc.jetstream();
    const token = name === 'service.intent' ? 'svc.intent' : 'svc.status';
    for (const event of events) {
      await js.publish(`${stack.subjectPrefix}.${token}.${event.workspaceId}.${event.serviceId}`, new TextEncoder().encode(JSON.stringify(event)), {
        msgID: randomUUID(),
      });
    }
  } finally {
    await nc.close();
  }
}

/**
 * Samples the live model-server processes of one service every few milliseconds: the most that ever ran at once,
 * and every parent seen. A takeover that duplicated replicas shows here even if the extra ones were gone by the end.
 */
export class ReplicaCensus {
  maxAlive = 0;
  readonly parents = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly serviceId: () => string | undefined, private readonly everyMs = 25) {}

  start(): this {
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  sample(): void {
    const id = this.serviceId();
    if (id === undefined) return;
    const alive = listReplicaProcesses().filter((p) => p.serviceId === id);
    this.maxAlive = Math.max(this.maxAlive, alive.length);
    for (const p of alive) this.parents.add(p.ppid);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
