import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from '@remotegpu/bus';
import { statusMessageIn, type EventMap, type EventName, type InferenceService, type ServiceIntentEvent } from '@remotegpu/core';
import { ProvisionerStoppedError } from '../src/index.js';
import { eventually, flush, Harness } from './support/harness.js';

/**
 * The real in-process bus, with each intent delivery's outcome kept: the durable (NATS) adapter acks on the
 * handler's promise and calls `onGiveUp` after the last delivery, and those two are what the provisioner owes it.
 */
class DeliveryRecorder implements EventBus {
  readonly deliveries: { intent: ServiceIntentEvent; outcome: Promise<void>; settled: 'pending' | 'acked' | 'failed'; error?: unknown }[] = [];
  intentOptions: SubscribeOptions | undefined;

  constructor(private readonly inner: EventBus) {}

  publish<K extends EventName>(name: K, event: EventMap[K]): Promise<void> {
    return this.inner.publish(name, event);
  }

  subscribe<K extends EventName>(name: K, handler: EventHandler<K>, options?: SubscribeOptions): Promise<Subscription> {
    if (name !== 'service.intent') return this.inner.subscribe(name, handler, options);
    this.intentOptions = options;
    return this.inner.subscribe(
      name,
      (event) => {
        const delivery = { intent: event as ServiceIntentEvent, outcome: Promise.resolve(handler(event)), settled: 'pending' as const };
        const record: (typeof this.deliveries)[number] = delivery;
        this.deliveries.push(record);
        delivery.outcome.then(
          () => (record.settled = 'acked'),
          (err: unknown) => {
            record.settled = 'failed';
            record.error = err;
          },
        );
      },
      options,
    );
  }

  onReconnect(listener: () => void): () => void {
    return this.inner.onReconnect(listener);
  }

  isReady(): boolean {
    return this.inner.isReady();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function intentFor(service: InferenceService, correlationId?: string): ServiceIntentEvent {
  return {
    eventId: randomUUID(),
    serviceId: service.id,
    workspaceId: service.workspaceId,
    at: new Date().toISOString(),
    intent: 'create',
    generation: service.generation,
    ...(correlationId ? { correlationId } : {}),
  };
}

describe('Provisioner: durable intents are acknowledged by their reconcile', () => {
  let h: Harness;
  let bus: DeliveryRecorder;
  afterEach(() => h.close());

  async function open(durable = true) {
    h = await Harness.open();
    bus = new DeliveryRecorder(h.bus);
    const p = h.provisioner({ bus, resyncIntervalMs: 60_000, retryBaseMs: 20, ...(durable ? { durableIntents: { maxDeliver: 3 } } : {}) });
    await p.start();
    return p;
  }

  it('asks the bus for bounded deliveries and a give-up callback', async () => {
    await open();
    expect(bus.intentOptions).toMatchObject({ group: 'provisioner', maxDeliver: 3 });
    expect(bus.intentOptions?.onGiveUp).toBeTypeOf('function');
  });

  it('acknowledges an intent only once the reconcile it asked for has finished', async () => {
    await open();
    let release!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (release = resolve));
    const service = await h.create({ replicas: 2 }, { intent: true });
    await eventually(() => expect(h.runtime.calls.apply).toBe(1));
    await flush();
    expect(bus.deliveries.map((d) => d.settled)).toEqual(['pending']);

    release();
    await eventually(() => expect(bus.deliveries[0].settled).toBe('acked'));
    expect(h.runtime.replicas(service.id)).toHaveLength(2);
  });

  it('an intent that arrives while its service reconciles waits for the next reconcile', async () => {
    await open();
    let releaseFirst!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (releaseFirst = resolve));
    const service = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(h.runtime.calls.apply).toBe(1));
    // The running reconcile may have read the record before whatever this intent announces: it cannot answer
    // for it. (An intent alone, without a store write, so that the first reconcile does not lose a write race.)
    await h.publishIntent('update', service);
    await eventually(() => expect(bus.deliveries).toHaveLength(2));
    let releaseSecond!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (releaseSecond = resolve));
    releaseFirst();
    await eventually(() => expect(bus.deliveries.map((d) => d.settled)).toEqual(['acked', 'pending']));
    await eventually(() => expect(h.runtime.calls.apply).toBe(2));
    h.runtime.applyGate = null;
    releaseSecond();
    await eventually(() => expect(bus.deliveries.map((d) => d.settled)).toEqual(['acked', 'acked']));
    expect(h.runtime.replicas(service.id)).toHaveLength(1);
  });

  it('a failed reconcile fails the delivery (the bus redelivers it) while the queue retries on its own', async () => {
    await open();
    h.runtime.failApplies = 1;
    const service = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(bus.deliveries[0]?.settled).toBe('failed'));
    expect(String(bus.deliveries[0].error)).toMatch(/apply failed/);
    await eventually(() => expect(h.runtime.replicas(service.id)).toHaveLength(1));
  });

  it('after the last delivery the service says why it does not move, in both languages, and subscribers hear it', async () => {
    await open();
    const service = await h.create({ replicas: 1 });
    const before = await h.get(service.id);
    await bus.intentOptions!.onGiveUp!(intentFor(service, 'req-poison'), new Error('artifact store unreachable'), 3);

    const after = await h.get(service.id);
    expect(after).toMatchObject({
      status: before.status,
      statusReason: 'reconcile_failing',
      statusParams: { deliveries: 3, error: 'artifact store unreachable' },
    });
    expect(statusMessageIn(after, 'en')).toBe(
      'applying the latest change to this service failed 3 times in a row; last error: artifact store unreachable; the platform keeps retrying',
    );
    expect(statusMessageIn(after, 'zh')).toMatch(/连续 3 次失败.*artifact store unreachable/);
    await eventually(() =>
      expect(h.eventsFor(service.id).at(-1)).toMatchObject({ reason: 'reconcile_failing', correlationId: 'req-poison', version: after.version }),
    );
    // A history line is for a status change; this is not one.
    expect((await h.history(service.id)).filter((e) => e.type === 'status_changed')).toEqual([]);

    // The next reconcile that succeeds clears it, as any decision does.
    await h.publishIntent('create', service);
    await eventually(async () => expect((await h.get(service.id)).statusReason).toBeNull());
  });

  it('a give-up met while stopping writes nothing: the next leader resyncs every service anyway', async () => {
    await open();
    const service = await h.create({ replicas: 1 });
    const before = await h.get(service.id);
    await bus.intentOptions!.onGiveUp!(intentFor(service), new ProvisionerStoppedError(), 3);
    expect((await h.get(service.id)).version).toBe(before.version);
  });

  it('stopping fails the intents it has not reconciled, so another provisioner gets them at once', async () => {
    const p = await open();
    let release!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (release = resolve));
    const a = await h.create({ replicas: 1 }, { intent: true });
    await eventually(() => expect(h.runtime.calls.apply).toBe(1));
    await h.update(a.id, { replicas: 2 }, { intent: true });
    await eventually(() => expect(bus.deliveries).toHaveLength(2));
    const stopped = p.stop();
    release();
    await stopped;
    await flush();
    expect(bus.deliveries[0].settled).toBe('acked');
    expect(bus.deliveries[1]).toMatchObject({ settled: 'failed' });
    expect(bus.deliveries[1].error).toBeInstanceOf(ProvisionerStoppedError);
  });

  it('without durable intents (npm start) the handler only queues: nothing waits on a reconcile', async () => {
    await open(false);
    expect(bus.intentOptions).toEqual({ group: 'provisioner' });
    let release!: () => void;
    h.runtime.applyGate = new Promise((resolve) => (release = resolve));
    try {
      await h.create({ replicas: 1 }, { intent: true });
      // Acknowledged although its reconcile is still held in the gate.
      await eventually(() => expect(h.runtime.calls.apply).toBe(1));
      expect(bus.deliveries[0]?.settled).toBe('acked');
    } finally {
      release();
    }
  });
});
