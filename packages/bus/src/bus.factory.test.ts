import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { connectBus } from './bus.factory.js';
import { InProcessBus } from './in-process.bus.js';
import { NatsBus } from './nats/nats.bus.js';
import { statusEventFixture, waitUntil } from './contract/contract.fixtures.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const streamName = `RGPU_TEST_FACTORY_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  const nc = await connect({ servers: NATS_URL, timeout: 3_000 }).catch(() => undefined);
  await nc?.jetstreamManager().then((jsm) => jsm.streams.delete(streamName)).catch(() => undefined);
  await nc?.close();
});

describe('connectBus(config)', () => {
  it('without NATS_URL: the in-process bus, delivering what is published', async () => {
    const bus = await connectBus({});
    expect(bus).toBeInstanceOf(InProcessBus);
    const seen: string[] = [];
    await bus.subscribe('service.status', (event) => void seen.push(event.eventId));
    const event = statusEventFixture();
    await bus.publish('service.status', event);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([event.eventId]);
    await bus.close();
  });

  it('with NATS_URL: the JetStream bus, its stream in place, delivering what is published', async () => {
    const bus = await connectBus({ natsUrl: NATS_URL, connectionName: 'factory-test', nats: { streamName, subjectPrefix: `rgputest.factory${streamName.slice(-8)}` } });
    expect(bus).toBeInstanceOf(NatsBus);
    expect(bus.isReady()).toBe(true);
    const seen: string[] = [];
    await bus.subscribe('service.status', (event) => void seen.push(event.eventId));
    const event = statusEventFixture();
    await bus.publish('service.status', event);
    await waitUntil(() => seen.length === 1, 'the event arrived');
    expect(seen).toEqual([event.eventId]);
    await bus.close();
    expect(bus.isReady()).toBe(false);
  });

  it('a NATS_URL nobody answers on: rejects at once, naming the variable and the address', async () => {
    const started = Date.now();
    const err = await connectBus({ natsUrl: 'nats://127.0.0.1:1', nats: { connectTimeoutMs: 2_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/NATS_URL/);
    expect((err as Error).message).toContain('nats://127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
