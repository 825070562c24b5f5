import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newServiceId, type EventMap, type EventName } from '@remotegpu/core';
import type { EventBus, SubscribeOptions, Subscription } from '../event-bus.port.js';
import { InvalidEventError } from '../event-validation.js';
import { intentEventFixture, sleep, statusEventFixture, waitUntil } from './contract.fixtures.js';

export { intentEventFixture, statusEventFixture, waitUntil } from './contract.fixtures.js';

export interface EventBusUnderTest {
  bus: EventBus;
  cleanup?: () => Promise<void>;
}

export interface EventBusContractOptions {
  /**
   * How long to keep watching for an event that must not arrive, after a later event did. Only the
   * negative checks (unsubscribe, no duplicates) wait this long; everything else waits for an outcome.
   */
  quietPeriodMs?: number;
  /**
   * Durable adapters (NATS JetStream): the group handler's promise is the acknowledgement, a throw brings the
   * event back to the group, and after `maxDeliver` deliveries `onGiveUp` is called once. The in-process bus
   * keeps no log of events to redeliver from (it hands each event to a mailbox once and logs a failure): in one
   * process a failed reconcile is repaired by the provisioner's resync, which a crash would need anyway.
   */
  redeliversFailedGroupEvents?: boolean;
  /**
   * The adapter recognises a re-published `eventId` and delivers it once (JetStream's duplicate window on
   * `Nats-Msg-Id`). The in-process bus needs no such guard: an in-process publish cannot half-fail, so its
   * callers never retry one.
   */
  dedupesEventIds?: boolean;
  /** The longest redelivery delay the adapter under test uses; the negative checks after a redelivery wait this too. */
  maxRedeliveryDelayMs?: number;
}

/**
 * The behaviour every EventBus adapter must show. Run it from the adapter's test file:
 * `runEventBusContract('nats', async () => ({ bus: await NatsBus.connect(...), cleanup }))`.
 * The suite closes the bus after each test, then calls `cleanup`. Each test uses its own service id and
 * group names and only counts events of that service, so a persistent stream may carry earlier tests' events.
 * `subscribe` must resolve only once the subscription receives events published after it.
 */
export function runEventBusContract(name: string, factory: () => Promise<EventBusUnderTest>, options: EventBusContractOptions = {}): void {
  const quietPeriodMs = options.quietPeriodMs ?? 150;
  const redeliveryQuietMs = quietPeriodMs + (options.maxRedeliveryDelayMs ?? 0);

  describe(`EventBus contract: ${name}`, () => {
    let current: EventBusUnderTest | undefined;
    let serviceId = '';
    const bus = (): EventBus => {
      if (!current) throw new Error('the bus is only available inside a test');
      return current.bus;
    };

    /** Subscribes and records this test's events (by serviceId) in arrival order. */
    async function collect<K extends EventName>(
      event: K,
      opts: { group?: string; onEvent?: (e: EventMap[K]) => void | Promise<void> } & Omit<SubscribeOptions, 'group'> = {},
    ): Promise<{ events: EventMap[K][]; subscription: Subscription }> {
      const events: EventMap[K][] = [];
      const subscription = await bus().subscribe(
        event,
        (e) => {
          if (e.serviceId !== serviceId) return;
          events.push(e);
          return opts.onEvent?.(e);
        },
        { group: opts.group, maxDeliver: opts.maxDeliver, onGiveUp: opts.onGiveUp },
      );
      return { events, subscription };
    }

    const status = (overrides: Partial<EventMap['service.status']> = {}) => statusEventFixture({ serviceId, ...overrides });
    const intent = (overrides: Partial<EventMap['service.intent']> = {}) => intentEventFixture({ serviceId, ...overrides });
    const uniqueGroup = (label: string) => `${label}-${serviceId.slice(4)}`;

    beforeEach(async () => {
      serviceId = newServiceId();
      current = await factory();
    });

    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.bus.close();
      await done?.cleanup?.();
    });

    it('delivers an event to every plain subscriber with its eventId and payload', async () => {
      const subscribers = [await collect('service.status'), await collect('service.status'), await collect('service.status')];
      const event = status({ reason: 'replicas_ready', message: 'two of two ready' });
      await bus().publish('service.status', event);
      await waitUntil(() => subscribers.every((s) => s.events.length >= 1), 'every subscriber got the event');
      for (const s of subscribers) {
        expect(s.events).toHaveLength(1);
        expect(s.events[0].eventId).toBe(event.eventId);
        expect(s.events[0]).toEqual(event);
      }
    });

    it('delivers an event only to subscribers of its name', async () => {
      const intents = await collect('service.intent');
      await bus().publish('service.status', status());
      const sentinel = intent({ intent: 'stop' });
      await bus().publish('service.intent', sentinel);
      await waitUntil(() => intents.events.length >= 1, 'the intent arrived');
      expect(intents.events.map((e) => e.eventId)).toEqual([sentinel.eventId]);
    });

    it('never runs a handler inside the publisher’s call stack', async () => {
      let publishing = false;
      const seenWhilePublishing: boolean[] = [];
      await collect('service.status', { onEvent: () => void seenWhilePublishing.push(publishing) });
      publishing = true;
      const published = bus().publish('service.status', status());
      publishing = false;
      await published;
      await waitUntil(() => seenWhilePublishing.length === 1, 'the event arrived');
      expect(seenWhilePublishing).toEqual([false]);
    });

    it('keeps the order of one publisher’s events for every subscriber', async () => {
      const subscribers = [await collect('service.status'), await collect('service.status')];
      const count = 40;
      for (let generation = 0; generation < count; generation++) await bus().publish('service.status', status({ generation }));
      await waitUntil(() => subscribers.every((s) => s.events.length >= count), 'all events arrived');
      const expected = Array.from({ length: count }, (_, i) => i);
      for (const s of subscribers) expect(s.events.map((e) => e.generation)).toEqual(expected);
    });

    it('gives each event to exactly one member of a group, and to every group and plain subscriber', async () => {
      const workers = uniqueGroup('workers');
      const auditors = uniqueGroup('auditors');
      const members = [await collect('service.intent', { group: workers }), await collect('service.intent', { group: workers })];
      const auditor = await collect('service.intent', { group: auditors });
      const plain = await collect('service.intent');
      const published = Array.from({ length: 30 }, (_, generation) => intent({ generation }));
      for (const event of published) await bus().publish('service.intent', event);
      const memberTotal = () => members.reduce((n, m) => n + m.events.length, 0);
      await waitUntil(
        () => memberTotal() >= published.length && auditor.events.length >= published.length && plain.events.length >= published.length,
        'every group and the plain subscriber got all events',
      );
      await sleep(quietPeriodMs); // duplicates would arrive late
      const ids = published.map((e) => e.eventId).sort();
      expect(members.flatMap((m) => m.events.map((e) => e.eventId)).sort()).toEqual(ids);
      expect(auditor.events.map((e) => e.eventId).sort()).toEqual(ids);
      expect(plain.events.map((e) => e.eventId).sort()).toEqual(ids);
    });

    it('rejects an invalid payload on publish and delivers nothing of it', async () => {
      const subscriber = await collect('service.status');
      const invalid: unknown[] = [
        { ...status(), eventId: '' },
        { ...status(), status: 'exploded' },
        { ...status(), workspaceId: -3 },
        (({ readyReplicas: _omitted, ...rest }) => rest)(status()),
      ];
      for (const payload of invalid) {
        await expect(bus().publish('service.status', payload as EventMap['service.status'])).rejects.toBeInstanceOf(InvalidEventError);
      }
      await expect(bus().publish('service.intent', { ...intent(), intent: 'explode' } as never)).rejects.toBeInstanceOf(InvalidEventError);
      await expect(bus().publish('no.such.event' as EventName, status() as never)).rejects.toBeInstanceOf(InvalidEventError);
      const sentinel = status({ status: 'stopped' });
      await bus().publish('service.status', sentinel);
      await waitUntil(() => subscriber.events.length >= 1, 'the valid event arrived');
      expect(subscriber.events.map((e) => e.eventId)).toEqual([sentinel.eventId]);
    });

    it('stops delivering to a subscription once it is unsubscribed', async () => {
      const leaving = await collect('service.status');
      const staying = await collect('service.status');
      const first = status({ generation: 1 });
      await bus().publish('service.status', first);
      await waitUntil(() => leaving.events.length >= 1 && staying.events.length >= 1, 'both got the first event');
      await leaving.subscription.unsubscribe();
      await bus().publish('service.status', status({ generation: 2 }));
      await waitUntil(() => staying.events.length >= 2, 'the remaining subscriber got the second event');
      await sleep(quietPeriodMs);
      expect(leaving.events.map((e) => e.eventId)).toEqual([first.eventId]);
    });

    it('isolates a throwing or rejecting handler from the other subscribers and from its own later events', async () => {
      const throwing = await collect('service.status', {
        onEvent: () => {
          throw new Error('handler failure (expected by the test)');
        },
      });
      const rejecting = await collect('service.status', { onEvent: async () => Promise.reject(new Error('handler rejection (expected by the test)')) });
      const healthy = await collect('service.status');
      const events = [status({ generation: 1 }), status({ generation: 2 })];
      for (const event of events) await bus().publish('service.status', event);
      await waitUntil(() => healthy.events.length >= 2, 'the healthy subscriber got both events');
      expect(healthy.events.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      // Delivery is at-least-once: a failed event may come again, but the later one must come too.
      await waitUntil(
        () => [throwing, rejecting].every((s) => s.events.some((e) => e.eventId === events[1].eventId)),
        'the failing subscribers got the later event too',
      );
    });

    it('reports ready while open and not after close; onReconnect hands back an unsubscribe function', async () => {
      expect(bus().isReady()).toBe(true);
      const stopListening = bus().onReconnect(() => undefined);
      expect(typeof stopListening).toBe('function');
      stopListening();
      await bus().close();
      expect(bus().isReady()).toBe(false);
    });

    it.runIf(options.redeliversFailedGroupEvents === true)('brings an event back to the group after its handler threw, until a delivery succeeds', async () => {
      const group = uniqueGroup('retry');
      const giveUps: unknown[] = [];
      let failuresLeft = 2;
      const member = await collect('service.intent', {
        group,
        maxDeliver: 5,
        onGiveUp: (e) => void giveUps.push(e),
        onEvent: async () => {
          if (failuresLeft-- > 0) throw new Error('reconcile failure (expected by the test)');
        },
      });
      const event = intent();
      await bus().publish('service.intent', event);
      await waitUntil(() => member.events.length >= 3, 'the event came back twice after failing');
      await sleep(redeliveryQuietMs); // an acknowledged event must not come back
      expect(member.events.map((e) => e.eventId)).toEqual([event.eventId, event.eventId, event.eventId]);
      expect(giveUps).toEqual([]);
    });

    it.runIf(options.redeliversFailedGroupEvents === true)('gives an event up after maxDeliver failed deliveries: onGiveUp once, and the group goes on', async () => {
      const group = uniqueGroup('poison');
      const giveUps: { eventId: string; message: string; deliveries: number }[] = [];
      const poison = intent({ intent: 'create' });
      const member = await collect('service.intent', {
        group,
        maxDeliver: 3,
        onGiveUp: (e, err, deliveries) => void giveUps.push({ eventId: e.eventId, message: (err as Error).message, deliveries }),
        onEvent: async (e) => {
          if (e.eventId === poison.eventId) throw new Error('always fails (expected by the test)');
        },
      });
      await bus().publish('service.intent', poison);
      await waitUntil(() => giveUps.length >= 1, 'the poison event was given up');
      const healthy = intent({ intent: 'stop' });
      await bus().publish('service.intent', healthy);
      await waitUntil(() => member.events.some((e) => e.eventId === healthy.eventId), 'a later event still reached the group');
      await sleep(redeliveryQuietMs);
      expect(giveUps).toEqual([{ eventId: poison.eventId, message: 'always fails (expected by the test)', deliveries: 3 }]);
      expect(member.events.filter((e) => e.eventId === poison.eventId)).toHaveLength(3);
    });

    it.runIf(options.dedupesEventIds === true)('delivers a re-published eventId once, to plain and group subscribers', async () => {
      const plain = await collect('service.status');
      const member = await collect('service.status', { group: uniqueGroup('dedupe') });
      const event = status({ generation: 1 });
      await bus().publish('service.status', event);
      await bus().publish('service.status', event); // a publisher retrying after a lost acknowledgement
      await bus().publish('service.status', { ...event, message: 'the retry carries the same id' });
      const sentinel = status({ generation: 2 });
      await bus().publish('service.status', sentinel);
      await waitUntil(() => plain.events.length >= 2 && member.events.length >= 2, 'the sentinel arrived');
      await sleep(quietPeriodMs);
      for (const s of [plain, member]) expect(s.events.map((e) => e.eventId)).toEqual([event.eventId, sentinel.eventId]);
      expect(plain.events[0]).toEqual(event);
    });

    it('refuses publish and subscribe after close, and closes idempotently', async () => {
      await bus().close();
      await bus().close();
      await expect(bus().publish('service.status', status())).rejects.toThrow();
      await expect(bus().subscribe('service.status', () => undefined)).rejects.toThrow();
    });
  });
}
