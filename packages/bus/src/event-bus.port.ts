import type { EventMap, EventName } from '@remotegpu/core';

export type EventHandler<K extends EventName> = (event: EventMap[K]) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * Competing consumers: among subscribers with the same group, each event goes to one of them (NATS queue
   * groups / a JetStream durable consumer). Without a group every subscriber gets every event.
   */
  group?: string;
  /**
   * Group subscriptions on a durable adapter: an event whose handler throws (or rejects) is redelivered with
   * backoff, at most this many deliveries in all; the handler's promise is the acknowledgement.
   */
  maxDeliver?: number;
  /**
   * Called once when an event is given up after its last failed delivery, so the consumer can make the failure
   * visible (the provisioner writes a readable reason on the service). Never a silent drop.
   */
  onGiveUp?: (event: EventMap[EventName], error: unknown, deliveries: number) => void | Promise<void>;
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
  /**
   * Fires after the connection to the broker came back: events may have been missed meanwhile, so consumers that
   * keep derived state (routing table, subscriptions) re-read the store. Returns an unsubscribe function.
   */
  onReconnect(listener: () => void): () => void;
  /** For `/readyz`: true while the bus can publish and deliver (connected, not closed). */
  isReady(): boolean;
  close(): Promise<void>;
}
