import type { EventMap, EventName } from '@remotegpu/core';
import type { JetStreamManager, NatsConnection, Subscription as NatsSubscription } from 'nats';
import type { BusLogger } from '../bus-logger.js';
import type { SubscribeOptions } from '../event-bus.port.js';
import { decodeEvent } from './nats.codec.js';

export interface GiveUpAdvisoryDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  logger: BusLogger;
  streamName: string;
  consumerName: string;
  name: EventName;
  group: string;
  onGiveUp: NonNullable<SubscribeOptions['onGiveUp']>;
}

/** What the server sends on `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`. */
interface MaxDeliveriesAdvisory {
  stream_seq: number;
  deliveries: number;
}

/**
 * The one give-up a member's handler cannot see: an event whose last delivery was never acknowledged (the
 * member holding it was killed, or hung past `maxInProgressMs`). The server then drops it and announces that
 * with a max-deliveries advisory; this watcher reads the event back from the stream and calls `onGiveUp`, so
 * even a crash leaves a readable trace. Members share a queue group, so one of them handles each advisory.
 * Best effort by nature: an advisory sent while no member is connected is not kept (the provisioner's resync
 * still converges the service).
 */
export class GiveUpAdvisoryWatcher {
  private sub: NatsSubscription | undefined;

  constructor(private readonly deps: GiveUpAdvisoryDeps) {}

  async start(): Promise<void> {
    const { nc, streamName, consumerName } = this.deps;
    this.sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${streamName}.${consumerName}`, {
      queue: consumerName,
      callback: (err, msg) => {
        if (err) return;
        void this.handle(msg.data);
      },
    });
    await nc.flush();
  }

  stop(): void {
    try {
      this.sub?.unsubscribe();
    } catch {
      // The connection is already closed: so is the subscription.
    }
  }

  private async handle(data: Uint8Array): Promise<void> {
    const { jsm, logger, streamName, name, group } = this.deps;
    let advisory: MaxDeliveriesAdvisory;
    try {
      advisory = JSON.parse(new TextDecoder().decode(data)) as MaxDeliveriesAdvisory;
    } catch (err) {
      logger.warn({ event: name, group, err }, 'bus: unreadable max-deliveries advisory');
      return;
    }
    let event: EventMap[EventName] | undefined;
    try {
      const stored = await jsm.streams.getMessage(streamName, { seq: advisory.stream_seq });
      const decoded = decodeEvent(name, stored.data);
      if (decoded.ok) event = decoded.event;
    } catch (err) {
      logger.error({ event: name, group, streamSeq: advisory.stream_seq, err }, 'bus: an event was given up (never acknowledged) and could not be read back');
      return;
    }
    if (!event) return;
    const error = new Error(`not acknowledged within AckWait on any of its ${advisory.deliveries} deliveries (the member handling it stopped or hung)`);
    logger.error({ event: name, eventId: event.eventId, serviceId: event.serviceId, group, deliveries: advisory.deliveries, err: error }, 'bus: event given up after its last delivery');
    try {
      await this.deps.onGiveUp(event, error, advisory.deliveries);
    } catch (giveUpErr) {
      logger.error({ event: name, eventId: event.eventId, group, err: giveUpErr }, 'bus: onGiveUp failed');
    }
  }
}
