import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newServiceId } from '@remotegpu/core';
import { startNatsServer, type NatsServerProcess } from '@remotegpu/testkit';
import { connect } from 'nats';
import { mkdir, rm } from 'node:fs/promises';
import { intentEventFixture, sleep, statusEventFixture, waitUntil } from '../src/contract/contract.fixtures.js';
import { NatsBus } from '../src/nats/nats.bus.js';
import { FAST_GROUP, recordingLogger } from './nats.fixtures.js';

/**
 * A broker that dies and comes back, on a nats-server of this test's own (never the shared one): the durable
 * group loses nothing, plain subscriptions come back by themselves, publishes made during the outage are stored
 * once, and onReconnect tells consumers to re-read the store.
 */
describe('NatsBus across a broker restart', () => {
  let server: NatsServerProcess;
  const buses: NatsBus[] = [];

  beforeEach(async () => {
    server = await startNatsServer();
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await server.cleanup();
  });

  const open = async (label: string) => {
    const bus = await NatsBus.connect({
      url: server.url,
      connectionName: label,
      logger: recordingLogger().logger,
      group: FAST_GROUP,
      reconnectWaitMs: 100,
      closeTimeoutMs: 1_000,
    });
    buses.push(bus);
    return bus;
  };

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`after a ${signal === 'SIGKILL' ? 'crash (kill -9)' : 'clean stop'} of the broker: no intent lost for the group, status flows again, onReconnect fires`, async () => {
      const publisher = await open('publisher');
      const consumer = await open('consumer');
      const serviceId = newServiceId();
      const handled = new Map<string, number>();
      const statuses: string[] = [];
      let reconnects = 0;
      consumer.onReconnect(() => reconnects++);
      await consumer.subscribe(
        'service.intent',
        async (e) => {
          handled.set(e.eventId, (handled.get(e.eventId) ?? 0) + 1);
          await sleep(5); // a reconcile takes a moment: some intents are unacknowledged when the broker dies
        },
        { group: 'provisioner' },
      );
      await consumer.subscribe('service.status', (e) => void (e.serviceId === serviceId && statuses.push(e.eventId)));

      const before = Array.from({ length: 40 }, () => intentEventFixture({ serviceId }));
      for (const event of before) await publisher.publish('service.intent', event);
      const statusBefore = statusEventFixture({ serviceId, version: 1 });
      await publisher.publish('service.status', statusBefore);
      await waitUntil(() => handled.size >= 5, 'the group started on the intents');

      await server.kill(signal);
      await waitUntil(() => !consumer.isReady() && !publisher.isReady(), 'both report not ready');
      // Published during the outage: each publish retries until the broker is back.
      const during = Array.from({ length: 10 }, () => intentEventFixture({ serviceId }));
      const statusDuring = statusEventFixture({ serviceId, version: 2 });
      const pending = Promise.all([...during.map((e) => publisher.publish('service.intent', e)), publisher.publish('service.status', statusDuring)]);
      await sleep(1_000);
      await server.start();
      await pending;
      await waitUntil(() => consumer.isReady() && publisher.isReady() && reconnects >= 1, 'reconnected', 15_000);

      const after = Array.from({ length: 10 }, () => intentEventFixture({ serviceId }));
      for (const event of after) await publisher.publish('service.intent', event);
      const statusAfter = statusEventFixture({ serviceId, version: 3 });
      await publisher.publish('service.status', statusAfter);

      const all = [...before, ...during, ...after].map((e) => e.eventId);
      await waitUntil(() => all.every((id) => handled.has(id)), 'every intent reached the group', 20_000);
      await waitUntil(() => statuses.includes(statusAfter.eventId), 'a status published after the restart arrived', 15_000);
      expect([...handled.keys()].sort()).toEqual([...all].sort());
      // Gap-free fan-out: the ordered consumer resumed after the last status it had seen.
      expect(statuses).toEqual([statusBefore.eventId, statusDuring.eventId, statusAfter.eventId]);
      // Publish retries stored nothing twice.
      const nc = await connect({ servers: server.url });
      const info = await (await nc.jetstreamManager()).streams.info(publisher.streamName);
      await nc.close();
      expect(info.state.messages).toBe(all.length + 3);
    });
  }

  it('closes within its timeout while the broker is down (a SIGTERM during an outage still exits)', async () => {
    const bus = await open('closing');
    await bus.subscribe('service.status', () => undefined);
    await bus.subscribe('service.intent', () => undefined, { group: 'provisioner' });
    await server.kill('SIGKILL');
    await waitUntil(() => !bus.isReady(), 'the bus noticed the outage');
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(bus.isReady()).toBe(false);
    await expect(bus.publish('service.status', statusEventFixture())).rejects.toThrow(/closed/);
  });

  it('after the broker came back without its data: stream, group consumer and plain subscription are back before onReconnect fires', async () => {
    const publisher = await open('publisher');
    const consumer = await open('consumer');
    const serviceId = newServiceId();
    const intents: string[] = [];
    const statuses: string[] = [];
    await consumer.subscribe('service.intent', (e) => void (e.serviceId === serviceId && intents.push(e.eventId)), { group: 'provisioner' });
    await consumer.subscribe('service.status', (e) => void (e.serviceId === serviceId && statuses.push(e.eventId)));
    for (let i = 0; i < 20; i++) await publisher.publish('service.status', statusEventFixture({ serviceId, version: i }));
    await waitUntil(() => statuses.length === 20, 'the first statuses arrived');

    await server.kill('SIGKILL');
    await rm(server.storeDir, { recursive: true, force: true });
    await mkdir(server.storeDir);
    const reconnected = new Promise<void>((resolve) => consumer.onReconnect(resolve));
    await server.start();
    await reconnected;
    // onReconnect fired: what is published from now on must arrive.
    await waitUntil(() => publisher.isReady(), 'the publisher reconnected', 10_000);
    const intent = intentEventFixture({ serviceId });
    const status = statusEventFixture({ serviceId, version: 100 });
    await publisher.publish('service.intent', intent);
    await publisher.publish('service.status', status);
    await waitUntil(() => intents.includes(intent.eventId) && statuses.includes(status.eventId), 'both arrived on the new stream', 15_000);
  });
});
