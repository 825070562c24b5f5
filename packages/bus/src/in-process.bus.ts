import type { EventMap, EventName } from '@remotegpu/core';
import { consoleBusLogger, type BusLogger } from './bus-logger.js';
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from './event-bus.port.js';
import { InvalidEventError, parseEvent } from './event-validation.js';

export interface InProcessBusOptions {
  /** Where failing handlers and dropped events are reported; stderr when omitted. */
  logger?: BusLogger;
}

type AnyHandler = (event: unknown) => void | Promise<void>;

/**
 * One subscriber's queue. A subscriber handles its events one at a time and in publish order; a slow handler
 * delays only its own mailbox. Draining starts in a microtask, so a handler never runs inside `publish`.
 */
class Mailbox {
  active = true;
  private queue: unknown[] = [];
  private head = 0;
  private draining = false;

  constructor(
    readonly name: EventName,
    readonly group: string | undefined,
    private readonly handler: AnyHandler,
    private readonly logger: BusLogger,
  ) {}

  push(payload: unknown): void {
    this.queue.push(payload);
    if (this.draining) return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  /** Events not yet handled, removed from this mailbox (a leaving group member hands them on). */
  takePending(): unknown[] {
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return pending;
  }

  private async drain(): Promise<void> {
    while (this.active && this.head < this.queue.length) {
      const payload = this.queue[this.head];
      this.queue[this.head++] = undefined;
      await this.deliver(payload);
    }
    this.queue = [];
    this.head = 0;
    this.draining = false;
  }

  private async deliver(payload: unknown): Promise<void> {
    let event: unknown;
    try {
      // Validated again per subscriber: the copy it returns also keeps one handler's mutations from the others.
      event = parseEvent(this.name, payload);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      this.logger.warn({ event: this.name, err }, 'bus: dropped an invalid event');
      return;
    }
    try {
      await this.handler(event);
    } catch (err) {
      const eventId = (event as { eventId?: string }).eventId;
      this.logger.error({ event: this.name, eventId, group: this.group, err }, 'bus: event handler failed');
    }
  }
}

/** Competing members of one group: each event goes to the next member in turn. */
interface Group {
  members: Mailbox[];
  next: number;
}

interface Topic {
  plain: Set<Mailbox>;
  groups: Map<string, Group>;
}

/**
 * The EventBus of the standalone mode: everything in one process, nothing persisted. Delivery is
 * asynchronous and in publish order per subscriber; among the members of a `group` each event goes to exactly
 * one, round-robin. Events published while nobody listens are gone, which is fine for level-triggered
 * consumers (the provisioner resyncs, the router rebuilds from the Store).
 */
export class InProcessBus implements EventBus {
  private readonly topics = new Map<EventName, Topic>();
  private readonly logger: BusLogger;
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.logger = options.logger ?? consoleBusLogger;
  }

  async publish<K extends EventName>(name: K, event: EventMap[K]): Promise<void> {
    this.assertOpen();
    const payload = parseEvent(name, event);
    const topic = this.topics.get(name);
    if (!topic) return;
    for (const mailbox of topic.plain) mailbox.push(payload);
    for (const group of topic.groups.values()) this.nextMember(group).push(payload);
  }

  async subscribe<K extends EventName>(name: K, handler: EventHandler<K>, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const mailbox = new Mailbox(name, options.group, handler as AnyHandler, this.logger);
    const topic = this.topicOf(name);
    if (options.group === undefined) {
      topic.plain.add(mailbox);
    } else {
      const group = topic.groups.get(options.group) ?? { members: [], next: 0 };
      group.members.push(mailbox);
      topic.groups.set(options.group, group);
    }
    return { unsubscribe: async () => this.remove(mailbox) };
  }

  /** One process, no broker: there is no connection to lose, so this never fires. */
  onReconnect(_listener: () => void): () => void {
    return () => {};
  }

  isReady(): boolean {
    return !this.closed;
  }

  /** Stops delivery: queued events are dropped, later publishes and subscribes reject. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const topic of this.topics.values()) {
      for (const mailbox of topic.plain) mailbox.active = false;
      for (const group of topic.groups.values()) for (const mailbox of group.members) mailbox.active = false;
    }
    this.topics.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event bus is closed');
  }

  private topicOf(name: EventName): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = { plain: new Set(), groups: new Map() };
      this.topics.set(name, topic);
    }
    return topic;
  }

  private nextMember(group: Group): Mailbox {
    const member = group.members[group.next % group.members.length];
    group.next = (group.next + 1) % group.members.length;
    return member;
  }

  private remove(mailbox: Mailbox): void {
    if (!mailbox.active) return;
    mailbox.active = false;
    const topic = this.topics.get(mailbox.name);
    if (!topic) return;
    if (mailbox.group === undefined) {
      topic.plain.delete(mailbox);
      return;
    }
    const group = topic.groups.get(mailbox.group);
    if (!group) return;
    group.members = group.members.filter((m) => m !== mailbox);
    if (group.members.length === 0) {
      topic.groups.delete(mailbox.group);
      return;
    }
    group.next %= group.members.length;
    // The group promised each event to one member: what the leaving member had not handled goes to the others.
    for (const payload of mailbox.takePending()) this.nextMember(group).push(payload);
  }
}
