import { describe, expect, it } from 'vitest';
import { runEventBusContract, intentEventFixture, statusEventFixture, waitUntil } from './contract/event-bus.contract.js';
import type { BusLogger } from './bus-logger.js';
import { InProcessBus } from './in-process.bus.js';

/** Records what the bus logs, so the contract's deliberate handler failures stay off stderr and can be checked. */
function recordingLogger() {
  const lines: { level: 'error' | 'warn'; message: string; context: object }[] = [];
  const logger: BusLogger = {
    error: (context, message) => void lines.push({ level: 'error', message, context }),
    warn: (context, message) => void lines.push({ level: 'warn', message, context }),
  };
  return { logger, lines };
}

// No redelivery and no eventId de-duplication in process: see the contract's capability flags for why.
runEventBusContract('in-process', async () => ({ bus: new InProcessBus({ logger: recordingLogger().logger }) }), {
  redeliversFailedGroupEvents: false,
  dedupesEventIds: false,
});

describe('InProcessBus', () => {
  it('hands a group’s events to its members in turn', async () => {
    const bus = new InProcessBus();
    const received: string[][] = [[], [], []];
    for (const inbox of received) await bus.subscribe('service.intent', (e) => void inbox.push(e.eventId), { group: 'provisioner' });
    const events = Array.from({ length: 9 }, () => intentEventFixture());
    for (const event of events) await bus.publish('service.intent', event);
    await waitUntil(() => received.flat().length === 9, 'all events arrived');
    expect(received.map((inbox) => inbox.length)).toEqual([3, 3, 3]);
    expect(received[0]).toEqual([events[0].eventId, events[3].eventId, events[6].eventId]);
    await bus.close();
  });

  it('passes what a leaving group member had not handled yet to the remaining members', async () => {
    const bus = new InProcessBus();
    const slow: string[] = [];
    const fast: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const slowSub = await bus.subscribe(
      'service.intent',
      async (e) => {
        slow.push(e.eventId);
        await blocked;
      },
      { group: 'g' },
    );
    await bus.subscribe('service.intent', (e) => void fast.push(e.eventId), { group: 'g' });
    const events = Array.from({ length: 6 }, () => intentEventFixture());
    for (const event of events) await bus.publish('service.intent', event);
    await waitUntil(() => slow.length === 1 && fast.length === 3, 'each member started');
    await slowSub.unsubscribe();
    release();
    await waitUntil(() => fast.length === 5, 'the pending events moved to the remaining member');
    expect([...slow, ...fast].sort()).toEqual(events.map((e) => e.eventId).sort());
    await bus.close();
  });

  it('logs a failing handler with the event it failed on', async () => {
    const { logger, lines } = recordingLogger();
    const bus = new InProcessBus({ logger });
    await bus.subscribe('service.status', () => {
      throw new Error('boom');
    });
    const event = statusEventFixture();
    await bus.publish('service.status', event);
    await waitUntil(() => lines.length === 1, 'the failure was logged');
    expect(lines[0]).toMatchObject({ level: 'error', context: { event: 'service.status', eventId: event.eventId } });
    await bus.close();
  });

  it('gives every subscriber its own copy, unaffected by the publisher or other handlers mutating theirs', async () => {
    const bus = new InProcessBus();
    const seen: number[] = [];
    const mutate = (e: { readyReplicas: number }) => {
      seen.push(e.readyReplicas);
      e.readyReplicas = 99;
    };
    await bus.subscribe('service.status', mutate);
    await bus.subscribe('service.status', mutate);
    const event = statusEventFixture({ readyReplicas: 2 });
    const published = bus.publish('service.status', event);
    event.readyReplicas = 7;
    await published;
    await waitUntil(() => seen.length === 2, 'both got the event');
    expect(seen).toEqual([2, 2]);
    await bus.close();
  });

  it('drops queued events on close', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    await bus.subscribe('service.status', (e) => void seen.push(e.eventId));
    void bus.publish('service.status', statusEventFixture());
    await bus.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([]);
  });
});
