import { describe, expect, it } from 'vitest';
import { isConfigError } from '@remotegpu/core';
import { connectBus } from './bus.factory.js';
import { InProcessBus } from './in-process.bus.js';
import { statusEventFixture } from './contract/contract.fixtures.js';

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

  it('a NATS_URL this version cannot serve is a ConfigError naming the variable', async () => {
    const err = await connectBus({ natsUrl: 'nats://127.0.0.1:4222' }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/NATS_URL/);
  });
});
