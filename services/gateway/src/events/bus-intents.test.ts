import { describe, expect, it } from 'vitest';
import { InProcessBus } from '@remotegpu/bus';
import type { InferenceService, ServiceIntentEvent } from '@remotegpu/core';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { bestEffortIntents, busIntentPublisher } from './bus-intents.js';

function service(overrides: Partial<InferenceService> = {}): InferenceService {
  return {
    id: 'svc-abcdefghij0123',
    workspaceId: 456,
    name: 'resnet',
    description: '',
    modelId: 1,
    modelVersion: 'v1',
    framework: 'onnx',
    cpu: 1,
    memory: 1024 ** 3,
    gpu: 0,
    replicas: 2,
    desiredState: 'running',
    status: 'creating',
    statusReason: null,
    statusMessage: null,
    readyReplicas: 0,
    endpoints: [],
    generation: 3,
    observedGeneration: 0,
    version: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    deletedAt: null,
    ...overrides,
  };
}

/** Subscribes before anything is published; `until(n)` waits for the n-th intent (the bus delivers asynchronously). */
async function intentInbox(bus: InProcessBus) {
  const events: ServiceIntentEvent[] = [];
  await bus.subscribe('service.intent', (e) => void events.push(e));
  return {
    async until(count: number): Promise<ServiceIntentEvent[]> {
      const deadline = Date.now() + 2_000;
      while (events.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      return events;
    },
  };
}

describe('busIntentPublisher', () => {
  it('publishes service.intent with the service identity, intent, generation and the clock’s time', async () => {
    const bus = new InProcessBus();
    const inbox = await intentInbox(bus);
    const at = new Date('2025-06-01T12:34:56.789Z');
    await busIntentPublisher(bus, () => at).publish('update', service());
    const [event] = await inbox.until(1);
    expect(event).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      serviceId: 'svc-abcdefghij0123',
      workspaceId: 456,
      intent: 'update',
      generation: 3,
      at: '2025-06-01T12:34:56.789Z',
    });
    await bus.close();
  });

  it('gives every intent its own eventId, in publish order', async () => {
    const bus = new InProcessBus();
    const inbox = await intentInbox(bus);
    const publisher = busIntentPublisher(bus);
    const intents = ['create', 'stop', 'start', 'update', 'delete'] as const;
    for (const intent of intents) await publisher.publish(intent, service());
    const got = await inbox.until(5);
    expect(got.map((e) => e.intent)).toEqual(intents);
    expect(new Set(got.map((e) => e.eventId)).size).toBe(5);
    expect(Date.parse(got[0].at)).not.toBeNaN();
    await bus.close();
  });

  it('carries the request id as the correlationId, so every process logs the same id for one operation', async () => {
    const bus = new InProcessBus();
    const inbox = await intentInbox(bus);
    const publisher = busIntentPublisher(bus);
    await publisher.publish('stop', service(), { requestId: 'req-stop-42' });
    await publisher.publish('start', service());
    const [traced, untraced] = await inbox.until(2);
    expect(traced.correlationId).toBe('req-stop-42');
    expect(untraced).not.toHaveProperty('correlationId');
    await bus.close();
  });

  it('fails loudly when the bus refuses the event', async () => {
    const bus = new InProcessBus();
    await bus.close();
    await expect(busIntentPublisher(bus).publish('create', service())).rejects.toThrow(/closed/);
  });

  it('bestEffortIntents: a lost intent never fails the request; it is logged with the service and intent', async () => {
    const bus = new InProcessBus();
    await bus.close();
    const lines: { level: number; serviceId: string; intent: string; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const intents = bestEffortIntents(busIntentPublisher(bus), pino(sink));
    await expect(intents.publish('stop', service(), { requestId: 'req-lost-1' })).resolves.toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, serviceId: 'svc-abcdefghij0123', intent: 'stop', requestId: 'req-lost-1', msg: expect.stringMatching(/resync/) }),
    ]);
  });

  it('bestEffortIntents: a publish still retrying (broker away) stops holding the request after waitMs, and still completes', async () => {
    let finish!: () => void;
    const slow = { publish: () => new Promise<void>((resolve) => (finish = resolve)) };
    const started = Date.now();
    await bestEffortIntents(slow, pino({ level: 'silent' }), { waitMs: 100 }).publish('create', service());
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(2_000);
    finish(); // the background publish may still land; nothing throws when it does
  });
});
