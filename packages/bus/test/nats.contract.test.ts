import { afterAll } from 'vitest';
import { runEventBusContract } from '../src/contract/event-bus.contract.js';
import { FAST_GROUP, NATS_URL, connectTestBus, deleteStream, isolatedStream, requireNats } from './nats.fixtures.js';

/**
 * The EventBus contract against the real JetStream server at NATS_URL (default nats://127.0.0.1:4222), on a
 * stream of this file's own. Every test fails, with the reason, when the server cannot be reached.
 */
const stream = isolatedStream('contract');

// Checked in the factory, not in beforeAll: a failing beforeAll reports the tests as skipped, and this suite
// must show every test failed when the broker is missing.
let reachable: Promise<void> | undefined;
afterAll(() => deleteStream(stream.streamName, NATS_URL).catch(() => undefined));

runEventBusContract('NATS JetStream', async () => {
  reachable ??= requireNats();
  await reachable;
  return { bus: await connectTestBus(stream) };
}, {
  quietPeriodMs: 300,
  redeliversFailedGroupEvents: true,
  dedupesEventIds: true,
  maxRedeliveryDelayMs: FAST_GROUP?.nakMaxDelayMs,
});
