import type { EventMap, EventName } from '@remotegpu/core';

export type EventHandler<K extends EventName> = (event: EventMap[K]) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * Competing consumers: among subscribers with the same group, each event goes to one of them (NATS queue
   * groups / a JetStream durable consumer). Without a group every subscriber gets every event.
   */
  group?: string;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

/**
 * The EventBus port (in-process for standalone, NATS JetStream for distributed mode). Payloads are validated
 * against the core EVENT_SCHEMAS on publish and on delivery; an invalid one is rejected on publish and
 * dropped (and logged) on delivery. Delivery is at-least-once: handlers must be idempotent (the provisioner
 * is level-triggered; consumers may dedupe by `eventId`). A handler that throws does not stop delivery
 * to other subscribers.
 */
export interface EventBus {
  publish<K extends EventName>(name: K, event: EventMap[K]): Promise<void>;
  subscribe<K extends EventName>(name: K, handler: EventHandler<K>, options?: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
