import { VersionGate, type ServiceStatusEvent } from '@remotegpu/core';
import type { PubSub } from 'type-graphql';

/** The one topic the GraphQL subscription listens on. */
export const STATUS_TOPIC = 'service.status';

/** Which status events one subscription wants: its workspaces (or all, for an admin), optionally one service. */
export interface StatusInterest {
  workspaces: 'all' | readonly number[];
  serviceId?: string;
}

/**
 * Events a subscriber has not consumed yet. Status events are snapshots (each carries the whole status), so a
 * subscriber that falls this far behind loses the oldest ones and still ends on the current state; memory
 * stays bounded however slow its socket is.
 */
const BUFFER_LIMIT = 256;

/** One subscription's stream: an async iterator fed by the fan-out, removed from it when iteration ends. */
class StatusStream implements AsyncIterableIterator<ServiceStatusEvent> {
  private buffer: ServiceStatusEvent[] = [];
  private waiting: ((result: IteratorResult<ServiceStatusEvent>) => void) | undefined;
  private done = false;

  constructor(
    readonly interest: StatusInterest,
    private readonly detach: (stream: StatusStream) => void,
  ) {}

  offer(event: ServiceStatusEvent): void {
    if (this.done || (this.interest.serviceId !== undefined && event.serviceId !== this.interest.serviceId)) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= BUFFER_LIMIT) this.buffer.shift();
    this.buffer.push(event);
  }

  next(): Promise<IteratorResult<ServiceStatusEvent>> {
    const event = this.buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ServiceStatusEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ServiceStatusEvent>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ServiceStatusEvent> {
    return this;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.buffer = [];
    this.detach(this);
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }
}

function isInterest(value: unknown): value is StatusInterest {
  if (typeof value !== 'object' || value === null) return false;
  const { workspaces, serviceId } = value as Partial<StatusInterest>;
  const validWorkspaces = workspaces === 'all' || (Array.isArray(workspaces) && workspaces.every((w) => Number.isInteger(w)));
  return validWorkspaces && (serviceId === undefined || typeof serviceId === 'string');
}

/**
 * In-memory fan-out of status events to GraphQL subscriptions: the gateway subscribes to the bus once and
 * hands every event here. Subscriptions are indexed by workspace, so an event costs one map lookup plus the
 * subscriptions that may see it, not a filter call per connected client. Implements type-graphql's `PubSub`:
 * the subscription's `topicId` is its `StatusInterest`.
 */
export class StatusFanout implements PubSub {
  private readonly byWorkspace = new Map<number, Set<StatusStream>>();
  private readonly everyWorkspace = new Set<StatusStream>();
  private readonly open = new Set<StatusStream>();

  /** Number of open subscriptions. */
  get size(): number {
    return this.open.size;
  }

  /** Redelivered or reordered events (the bus is at-least-once) never move a subscriber's view backwards. */
  private readonly order = new VersionGate();

  deliver(event: ServiceStatusEvent): void {
    if (!this.order.admit(event)) return;
    for (const stream of this.everyWorkspace) stream.offer(event);
    const streams = this.byWorkspace.get(event.workspaceId);
    if (streams) for (const stream of streams) stream.offer(event);
  }

  /** Records a state as already known without delivering it (the store as it was when this gateway started). */
  remember(event: { serviceId: string; version: number; deleted: boolean }): void {
    this.order.admit(event);
  }

  /**
   * For a state read back from the store (a catch-up after a reconnect): delivered only when strictly newer than
   * what went out, so a service nobody touched is not announced again. True when delivered.
   */
  deliverIfNewer(event: ServiceStatusEvent): boolean {
    const held = this.order.held(event.serviceId);
    if (held !== undefined && event.version <= held) return false;
    const before = this.order.held(event.serviceId);
    this.deliver(event);
    return this.order.held(event.serviceId) !== before;
  }

  /** Registers at once (not on the first `next()`), so nothing published after subscribing is missed. */
  stream(interest: StatusInterest): AsyncIterableIterator<ServiceStatusEvent> {
    const stream = new StatusStream(interest, (s) => this.detach(s));
    this.open.add(stream);
    if (interest.workspaces === 'all') {
      this.everyWorkspace.add(stream);
    } else {
      for (const workspaceId of new Set(interest.workspaces)) {
        let streams = this.byWorkspace.get(workspaceId);
        if (!streams) this.byWorkspace.set(workspaceId, (streams = new Set()));
        streams.add(stream);
      }
    }
    return stream;
  }

  /** Ends every open stream; their subscriptions complete. */
  close(): void {
    for (const stream of [...this.open]) stream.end();
  }

  // type-graphql's PubSub interface. Only the gateway's bus feed publishes, through `deliver`.
  publish(routingKey: string, ...args: unknown[]): void {
    if (routingKey !== STATUS_TOPIC) throw new Error(`StatusFanout only carries "${STATUS_TOPIC}", not "${routingKey}"`);
    this.deliver(args[0] as ServiceStatusEvent);
  }

  subscribe(routingKey: string, interest?: unknown): AsyncIterable<unknown> {
    if (routingKey !== STATUS_TOPIC) throw new Error(`StatusFanout only carries "${STATUS_TOPIC}", not "${routingKey}"`);
    if (!isInterest(interest)) throw new Error('StatusFanout.subscribe needs a StatusInterest as its topic id');
    return this.stream(interest);
  }

  private detach(stream: StatusStream): void {
    this.open.delete(stream);
    if (stream.interest.workspaces === 'all') {
      this.everyWorkspace.delete(stream);
      return;
    }
    for (const workspaceId of stream.interest.workspaces) {
      const streams = this.byWorkspace.get(workspaceId);
      if (!streams) continue;
      streams.delete(stream);
      if (streams.size === 0) this.byWorkspace.delete(workspaceId);
    }
  }
}
