import type { EventMap, EventName } from '@remotegpu/core';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, NatsConnection } from 'nats';
import type { BusLogger } from '../bus-logger.js';
import type { SubscribeOptions } from '../event-bus.port.js';
import { nakDelay, type ResolvedNatsBusOptions } from './nats-bus.options.js';
import { decodeEvent } from './nats.codec.js';
import { PULL_EXPIRES_MS, withinMs } from './nats.timing.js';
import { GiveUpAdvisoryWatcher } from './nats-giveup.advisory.js';

type AnyHandler = (event: EventMap[EventName]) => void | Promise<void>;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

interface Held {
  msg: JsMsg;
  receivedAt: number;
}

export interface GroupSubscriptionDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  options: ResolvedNatsBusOptions;
  logger: BusLogger;
  name: EventName;
  group: string;
  consumerName: string;
  /** Deliveries in all before the event is given up (the consumer's MaxDeliver). */
  maxDeliver: number;
  handler: AnyHandler;
  onGiveUp: SubscribeOptions['onGiveUp'];
  /** Creates the group's durable consumer if it is missing (after a broker came back without its data). */
  ensureConsumer: () => Promise<unknown>;
}

/**
 * One member of a group on the group's durable pull consumer. Events are handled one at a time in arrival
 * order, as by the in-process bus. The handler's promise is the acknowledgement: resolved → ack; thrown →
 * nak with an exponential delay, until the last delivery, where `onGiveUp` is called once and the event is
 * terminated (never redelivered forever, never dropped without a trace). Every event this member holds, the
 * one being handled and those waiting behind it, is kept alive with "in progress" signals, so a long
 * reconcile does not let AckWait hand it to another member, and waiting events do not use up deliveries.
 */
export class GroupSubscription {
  private readonly queue: Held[] = [];
  private readonly held = new Set<Held>();
  private messages: ConsumerMessages | undefined;
  private advisories: GiveUpAdvisoryWatcher | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private draining = false;
  private current: Promise<void> | undefined;
  private active = true;

  constructor(private readonly deps: GroupSubscriptionDeps) {}

  async start(): Promise<void> {
    const { js, options, onGiveUp } = this.deps;
    if (onGiveUp) {
      this.advisories = new GiveUpAdvisoryWatcher({ ...this.deps, streamName: options.streamName, onGiveUp });
      await this.advisories.start();
    }
    const consumer = await js.consumers.get(options.streamName, this.deps.consumerName);
    this.messages = await consumer.consume({ max_messages: options.group.batch, expires: PULL_EXPIRES_MS, callback: (msg) => this.receive(msg) });
    const every = Math.max(250, Math.floor(options.group.ackWaitMs / 3));
    this.keepAlive = setInterval(() => this.signalInProgress(), every);
    this.keepAlive.unref();
  }

  /**
   * After a reconnect: the broker may have come back without its data. The consumer is recreated if missing;
   * nats.js finds it again on its next check (it keeps retrying while it is not found).
   */
  async restore(): Promise<void> {
    if (this.active) await this.deps.ensureConsumer();
  }

  /**
   * Leaves the group: no more pulls; events received but not started go back at once (nak without delay) to
   * the other members; the event being handled may finish (and be acked) within `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.active) return;
    this.active = false;
    clearInterval(this.keepAlive);
    this.advisories?.stop();
    const deadline = Date.now() + timeoutMs;
    // Stop pulling first: events nak'ed while this member's pull is still open would come straight back to it.
    await withinMs(this.messages?.close().catch(() => undefined) ?? Promise.resolve(), timeoutMs);
    // An event the server had already sent as the subscription closed is not read by anyone: it reaches
    // another member after AckWait. (The server skips pull requests whose inbox lost interest, so that window is
    // only what was on the wire; re-subscribing the inbox to nak such stragglers would pull more events into
    // it and burn their deliveries.)
    for (const item of this.queue.splice(0)) this.release(item, () => item.msg.nak());
    if (this.current) await withinMs(this.current, Math.max(0, deadline - Date.now()));
  }

  private receive(msg: JsMsg): void {
    const item = { msg, receivedAt: Date.now() };
    if (!this.active) {
      msg.nak();
      return;
    }
    this.held.add(item);
    this.queue.push(item);
    this.drain();
  }

  /**
   * Handles queued events one at a time. A handler that returns synchronously is settled in the same tick,
   * so the acks of a whole pulled batch leave in one socket write (nats.js flushes once per microtask turn);
   * an async handler's event is settled when its promise does, and the next event waits for it.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.active) {
        const item = this.queue.shift();
        if (!item) break;
        const pending = this.handle(item);
        if (pending) {
          this.current = pending.finally(() => {
            this.current = undefined;
            this.draining = false;
            this.drain();
          });
          return;
        }
      }
    } catch (err) {
      // Never throw into nats.js's delivery callback: it would stop the consumer.
      this.deps.logger.error({ event: this.deps.name, group: this.deps.group, err }, 'bus: unexpected failure while handling events');
    }
    this.draining = false;
  }

  private handle(item: Held): Promise<void> | undefined {
    const { name, group, logger } = this.deps;
    const { msg } = item;
    const decoded = decodeEvent(name, msg.data);
    if (!decoded.ok) {
      logger.warn({ event: name, group, subject: msg.subject, streamSeq: msg.info.streamSequence, err: decoded.error }, 'bus: dropped an invalid event');
      this.release(item, () => msg.term('invalid event'));
      return undefined;
    }
    const event = decoded.event;
    let result: void | Promise<void>;
    try {
      result = this.deps.handler(event);
    } catch (err) {
      return this.failed(item, event, err);
    }
    if (!isPromiseLike(result)) {
      this.release(item, () => msg.ack());
      return undefined;
    }
    return Promise.resolve(result).then(
      () => this.release(item, () => msg.ack()),
      (err: unknown) => this.failed(item, event, err),
    );
  }

  /** A failed delivery: nak with backoff, or on the last one, onGiveUp once and terminate. */
  private failed(item: Held, event: EventMap[EventName], err: unknown): Promise<void> | undefined {
    const { name, group, logger } = this.deps;
    const { msg } = item;
    const deliveries = msg.info.deliveryCount;
    if (deliveries >= this.deps.maxDeliver) {
      return this.giveUp(event, err, deliveries).then(() => this.release(item, () => msg.term('handler failed on every delivery')));
    }
    const delayMs = nakDelay(this.deps.options.group, deliveries);
    logger.warn({ event: name, eventId: event.eventId, group, deliveries, retryInMs: delayMs, err }, 'bus: event handler failed; redelivering');
    this.release(item, () => msg.nak(delayMs));
    return undefined;
  }

  private async giveUp(event: EventMap[EventName], err: unknown, deliveries: number): Promise<void> {
    const { name, group, logger, onGiveUp } = this.deps;
    logger.error({ event: name, eventId: event.eventId, serviceId: event.serviceId, group, deliveries, err }, 'bus: event given up after its last delivery');
    try {
      await onGiveUp?.(event, err, deliveries);
    } catch (giveUpErr) {
      logger.error({ event: name, eventId: event.eventId, group, err: giveUpErr }, 'bus: onGiveUp failed');
    }
  }

  /** Settles an event once; a closed connection cannot settle it, and the server then redelivers it after AckWait. */
  private release(item: Held, settle: () => void): void {
    this.held.delete(item);
    try {
      settle();
    } catch (err) {
      this.deps.logger.warn({ event: this.deps.name, group: this.deps.group, err }, 'bus: could not settle an event; it will be redelivered');
    }
  }

  private signalInProgress(): void {
    const now = Date.now();
    for (const item of this.held) {
      if (now - item.receivedAt > this.deps.options.group.maxInProgressMs) continue;
      try {
        item.msg.working();
      } catch {
        // Disconnected: the server redelivers after AckWait if we cannot reach it in time; nothing else to do.
      }
    }
  }
}
