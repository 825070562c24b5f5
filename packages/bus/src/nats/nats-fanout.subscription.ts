import type { EventMap, EventName } from '@remotegpu/core';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import type { BusLogger } from '../bus-logger.js';
import type { ResolvedNatsBusOptions } from './nats-bus.options.js';
import { decodeEvent } from './nats.codec.js';
import { PULL_EXPIRES_MS, withinMs } from './nats.timing.js';
import { eventFilter } from './nats.subjects.js';

type AnyHandler = (event: EventMap[EventName]) => void | Promise<void>;

export interface FanoutSubscriptionDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  options: ResolvedNatsBusOptions;
  logger: BusLogger;
  name: EventName;
  handler: AnyHandler;
}

/**
 * A plain subscription: every subscriber gets every event stored after it subscribed, through its own
 * JetStream *ordered consumer* (ephemeral, in memory, no acks), rather than a core NATS subscription:
 *  - it delivers what the stream stored, so a publish retried with the same eventId (de-duplicated by the
 *    stream) reaches subscribers once; a core subscription would see every retry;
 *  - it is gap-free: the client tracks the stream sequence and, after a reconnect, a broker restart or a
 *    missed heartbeat, recreates the consumer from the next sequence, so a short outage loses nothing that
 *    the stream kept (consumers still re-read the store on `onReconnect`, as the port asks);
 *  - it starts at the stream's next sequence read before `subscribe` resolves, so every event published
 *    after `subscribe` resolved is delivered, whatever the consumer creation's timing.
 * The price is one consumer per subscription on the server (a gateway or router holds one or two).
 * Handlers run one at a time in stream order; a throwing handler is logged and the next event follows.
 */
export class FanoutSubscription {
  private readonly queue: JsMsg[] = [];
  private consumer: Consumer | undefined;
  private messages: ConsumerMessages | undefined;
  private draining = false;
  private current: Promise<void> | undefined;
  private active = true;

  constructor(private readonly deps: FanoutSubscriptionDeps) {}

  async start(): Promise<void> {
    const { js, jsm, options, name } = this.deps;
    const { state } = await jsm.streams.info(options.streamName);
    this.consumer = await js.consumers.get(options.streamName, {
      filterSubjects: eventFilter(options.subjectPrefix, name),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: state.last_seq + 1,
    });
    this.messages = await this.consumer.consume({ expires: PULL_EXPIRES_MS, callback: (msg) => this.receive(msg) });
  }

  /**
   * After a reconnect to a broker that lost its data, the stream is a new one numbered from 1 again, and the
   * ordered consumer would wait for the sequence after the last one it saw in the old stream: start over at the
   * new stream's end. (What was published in between is covered by the store re-read `onReconnect` asks for.)
   */
  async restore(streamRecreated: boolean): Promise<void> {
    if (!streamRecreated || !this.active) return;
    const previous = this.messages;
    this.messages = undefined;
    await previous?.close().catch(() => undefined);
    if (this.active) await this.start();
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.queue.length = 0;
    const stopped = (async () => {
      await this.messages?.close().catch(() => undefined);
      // Best effort: an ordered consumer left behind expires on the server after its inactivity threshold.
      await this.consumer?.delete().catch(() => undefined);
      await this.current;
    })();
    // Bounded: with the broker down, the delete request would wait for its own timeout.
    await withinMs(stopped, timeoutMs);
  }

  private receive(msg: JsMsg): void {
    if (!this.active) return;
    this.queue.push(msg);
    this.drain();
  }

  /** One at a time in stream order; synchronous handlers run in the delivery tick, async ones are awaited. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.active) {
        const msg = this.queue.shift();
        if (!msg) break;
        const pending = this.handle(msg);
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
      this.deps.logger.error({ event: this.deps.name, err }, 'bus: unexpected failure while handling events');
    }
    this.draining = false;
  }

  private handle(msg: JsMsg): Promise<void> | undefined {
    const { name, logger } = this.deps;
    const decoded = decodeEvent(name, msg.data);
    if (!decoded.ok) {
      logger.warn({ event: name, subject: msg.subject, streamSeq: msg.info.streamSequence, err: decoded.error }, 'bus: dropped an invalid event');
      return undefined;
    }
    const eventId = decoded.event.eventId;
    const failed = (err: unknown) => logger.error({ event: name, eventId, err }, 'bus: event handler failed');
    try {
      const result = this.deps.handler(decoded.event);
      if (typeof (result as PromiseLike<void> | undefined)?.then === 'function') return Promise.resolve(result).then(undefined, failed);
    } catch (err) {
      failed(err);
    }
    return undefined;
  }
}
