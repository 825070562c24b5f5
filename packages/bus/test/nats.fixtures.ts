import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import type { BusLogger } from '../src/bus-logger.js';
import { NatsBus } from '../src/nats/nats.bus.js';
import type { NatsBusOptions } from '../src/nats/nats-bus.options.js';

/** The shared broker (DESIGN §8). Tests that kill or restart a broker start their own (testkit startNatsServer). */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * Fails loudly, never skips, when NATS is not there: a bus suite that silently passes without a broker proves
 * nothing (issue 7: "in CI the suite fails when that server is unreachable").
 */
export async function requireNats(url: string = NATS_URL): Promise<void> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: url, timeout: 3_000, maxReconnectAttempts: 0 });
    await nc.jetstreamManager({ timeout: 3_000 }).then((jsm) => jsm.getAccountInfo());
  } catch (err) {
    throw new Error(
      `NATS JetStream is not reachable at ${url} (NATS_URL): ${(err as Error).message}. ` +
        'The bus tests need it: run `nats-server -js` (apt-get install nats-server) or point NATS_URL at one.',
    );
  } finally {
    await nc?.close();
  }
}

/** A stream name and subject prefix of its own per test file, so runs on the shared broker never see each other. */
export function isolatedStream(label: string): { streamName: string; subjectPrefix: string } {
  const id = randomBytes(4).toString('hex');
  return { streamName: `RGPU_TEST_${label.toUpperCase()}_${id}`, subjectPrefix: `rgputest.${label}${id}` };
}

/** Short delays so redelivery tests finish in well under a second; production defaults are in nats-bus.options.ts. */
export const FAST_GROUP: NatsBusOptions['group'] = { nakDelayMs: 40, nakMaxDelayMs: 160 };

export function recordingLogger() {
  const lines: { level: 'error' | 'warn'; message: string; context: Record<string, unknown> }[] = [];
  const logger: BusLogger = {
    error: (context, message) => void lines.push({ level: 'error', message, context: context as Record<string, unknown> }),
    warn: (context, message) => void lines.push({ level: 'warn', message, context: context as Record<string, unknown> }),
  };
  return { logger, lines };
}

export function connectTestBus(stream: { streamName: string; subjectPrefix: string }, options: Partial<NatsBusOptions> = {}): Promise<NatsBus> {
  return NatsBus.connect({ url: NATS_URL, logger: recordingLogger().logger, group: FAST_GROUP, connectionName: 'bus-test', ...stream, ...options });
}

/** Removes a test stream (and its consumers) from the broker. */
export async function deleteStream(streamName: string, url: string = NATS_URL): Promise<void> {
  const nc = await connect({ servers: url, timeout: 3_000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(streamName).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
