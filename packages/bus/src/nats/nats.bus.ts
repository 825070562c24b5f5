import type { EventMap, EventName } from '@remotegpu/core';
import { connect, ErrorCode, Events, NatsError, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { consoleBusLogger, type BusLogger } from '../bus-logger.js';
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from '../event-bus.port.js';
import { parseEvent } from '../event-validation.js';
import { resolveNatsBusOptions, type NatsBusOptions, type ResolvedNatsBusOptions } from './nats-bus.options.js';
import { encodeEvent } from './nats.codec.js';
import { sleepMs, withinMs } from './nats.timing.js';
import { FanoutSubscription } from './nats-fanout.subscription.js';
import { GroupSubscription } from './nats-group.subscription.js';
import { ensureGroupConsumer, ensureStream } from './nats-stream.setup.js';
import { assertStreamName, assertSubjectPrefix, durableName, eventSubject } from './nats.subjects.js';

type AnyHandler = (event: EventMap[EventName]) => void | Promise<void>;
type Member = GroupSubscription | FanoutSubscription;

/** Publish failures worth another attempt: the broker is restarting, unreachable for a moment, or slow. */
const RETRYABLE = new Set<string>([ErrorCode.Timeout, ErrorCode.NoResponders, ErrorCode.Disconnect, ErrorCode.ConnectionRefused, ErrorCode.JetStream408RequestTimeout]);


/**
 * The EventBus of distributed mode, on NATS JetStream (DESIGN §2.1): one stream with file storage and limits,
 * subjects `<prefix>.svc.<event>.<workspaceId>.<serviceId>`, `Nats-Msg-Id` = eventId for de-duplication,
 * one durable pull consumer per group (explicit ack after the handler, nak with backoff, bounded MaxDeliver,
 * `onGiveUp`), and an ordered consumer per plain subscription. Create with `NatsBus.connect(options)`.
 */
export class NatsBus implements EventBus {
  private readonly members = new Set<Member>();
  private readonly reconnectListeners = new Set<() => void>();
  private connected = true;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: ResolvedNatsBusOptions,
    private readonly logger: BusLogger,
    /** When the stream we set up was created: another value after a reconnect means the broker lost its data. */
    private streamCreated: string,
  ) {
    void this.watchConnection();
  }

  /**
   * Connects, then creates or updates the stream. Rejects when the server cannot be reached within
   * `connectTimeoutMs` (the message names the URL); once connected, the client reconnects forever.
   */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const resolved = resolveNatsBusOptions(options);
    assertStreamName(resolved.streamName);
    assertSubjectPrefix(resolved.subjectPrefix);
    const logger = options.logger ?? consoleBusLogger;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: resolved.url.split(',').map((s) => s.trim()),
        name: resolved.connectionName,
        timeout: resolved.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: resolved.reconnectWaitMs,
        pingInterval: 10_000,
      });
    } catch (err) {
      throw new Error(`cannot reach NATS at ${resolved.url} (NATS_URL): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    try {
      const jsm = await nc.jetstreamManager({ timeout: resolved.publish.attemptTimeoutMs });
      const stream = await ensureStream(jsm, resolved, logger);
      return new NatsBus(nc, nc.jetstream({ timeout: resolved.publish.attemptTimeoutMs }), jsm, resolved, logger, stream.created);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new Error(`NATS at ${resolved.url}: cannot set up the JetStream stream ${resolved.streamName}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  get streamName(): string {
    return this.options.streamName;
  }

  async publish<K extends EventName>(name: K, event: EventMap[K]): Promise<void> {
    this.assertOpen();
    const payload = parseEvent(name, event);
    const subject = eventSubject(this.options.subjectPrefix, name, payload.workspaceId, payload.serviceId);
    const data = encodeEvent(payload);
    const { attemptTimeoutMs, deadlineMs } = this.options.publish;
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      try {
        // The same msgID on every attempt: if an earlier attempt was stored and only its ack got lost, the
        // stream recognises the retry as a duplicate and stores nothing.
        await this.js.publish(subject, data, { msgID: payload.eventId, timeout: attemptTimeoutMs });
        return;
      } catch (err) {
        const code = err instanceof NatsError ? err.code : undefined;
        const retryable = code !== undefined && RETRYABLE.has(code) && !this.closing;
        const wait = Math.min(2_000, 100 * 2 ** attempt);
        if (!retryable || Date.now() + wait >= deadline) throw err;
        this.logger.warn({ event: name, eventId: payload.eventId, attempt: attempt + 1, code }, 'bus: publish failed; retrying');
        await sleepMs(wait);
      }
    }
  }

  async subscribe<K extends EventName>(name: K, handler: EventHandler<K>, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const member = options.group === undefined ? this.fanout(name, handler as AnyHandler) : await this.groupMember(name, handler as AnyHandler, options);
    this.members.add(member);
    try {
      await member.start();
    } catch (err) {
      this.members.delete(member);
      await member.stop(0);
      throw err;
    }
    return {
      unsubscribe: async () => {
        this.members.delete(member);
        await member.stop(this.options.closeTimeoutMs);
      },
    };
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => void this.reconnectListeners.delete(listener);
  }

  isReady(): boolean {
    return !this.closing && this.connected && !this.nc.isClosed();
  }

  /**
   * Stops every subscription (events not started go back to their group; a running handler may finish and
   * ack within `closeTimeoutMs`), then drains the connection so pending acks and publishes reach the server.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const members = [...this.members];
    this.members.clear();
    await Promise.all(members.map((m) => m.stop(this.options.closeTimeoutMs)));
    this.reconnectListeners.clear();
    if (this.nc.isClosed()) return;
    // Draining needs the server (it waits for a flush); with the broker down it would wait for its return, and
    // a process being stopped must exit. Past the timeout the connection is closed: unsent acks are redelivered.
    const drained = await withinMs(
      this.nc.drain().then(
        () => true,
        () => false,
      ),
      this.options.closeTimeoutMs,
    );
    if (drained !== true) await this.nc.close().catch(() => undefined);
  }

  private fanout(name: EventName, handler: AnyHandler): FanoutSubscription {
    return new FanoutSubscription({ js: this.js, jsm: this.jsm, options: this.options, logger: this.logger, name, handler });
  }

  private async groupMember(name: EventName, handler: AnyHandler, options: SubscribeOptions): Promise<GroupSubscription> {
    const group = options.group as string;
    const maxDeliver = options.maxDeliver ?? this.options.group.maxDeliver;
    if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error(`maxDeliver must be a positive integer, got ${maxDeliver}`);
    const info = await ensureGroupConsumer(this.jsm, this.options, { group, event: name, maxDeliver });
    return new GroupSubscription({
      ensureConsumer: () => ensureGroupConsumer(this.jsm, this.options, { group, event: name, maxDeliver }),
      nc: this.nc,
      js: this.js,
      jsm: this.jsm,
      options: this.options,
      logger: this.logger,
      name,
      group,
      consumerName: durableName(group, name),
      // Another member may have set the group's MaxDeliver since: give up no later than the server stops.
      maxDeliver: Math.min(maxDeliver, info.config.max_deliver ?? maxDeliver),
      handler,
      onGiveUp: options.onGiveUp,
    });
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Disconnect) {
        this.connected = false;
        this.logger.warn({ server: status.data }, 'bus: disconnected from NATS; reconnecting');
      } else if (status.type === Events.Reconnect) {
        this.connected = true;
        this.logger.warn({ server: status.data }, 'bus: reconnected to NATS');
        void this.afterReconnect();
      }
    }
  }

  /**
   * Puts the stream and the group consumers back if the broker lost them, then tells the listeners: anything
   * published from then on is delivered, and what came before is covered by the store re-read they do.
   */
  private async afterReconnect(): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this.closing; attempt++) {
      try {
        const stream = await ensureStream(this.jsm, this.options, this.logger);
        const recreated = stream.created !== this.streamCreated;
        if (recreated) this.logger.warn({ stream: this.options.streamName }, 'bus: the broker came back without the event stream; recreated it');
        this.streamCreated = stream.created;
        await Promise.all([...this.members].map((member) => member.restore(recreated)));
        break;
      } catch (err) {
        this.logger.warn({ err, attempt: attempt + 1 }, 'bus: could not check the stream after reconnecting; retrying');
        await sleepMs(500 * 2 ** attempt);
      }
    }
    if (this.closing) return;
    for (const listener of [...this.reconnectListeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'bus: a reconnect listener failed');
      }
    }
  }

  private assertOpen(): void {
    if (this.closing || this.nc.isClosed()) throw new Error('the event bus is closed');
  }
}
