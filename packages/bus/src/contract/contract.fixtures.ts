import { randomUUID } from 'node:crypto';
import type { ServiceIntentEvent, ServiceStatusEvent } from '@remotegpu/core';

/** A valid `service.status` event with a fresh eventId; override what a test cares about. */
export function statusEventFixture(overrides: Partial<ServiceStatusEvent> = {}): ServiceStatusEvent {
  return {
    eventId: randomUUID(),
    serviceId: 'svc-contract0000000',
    workspaceId: 1,
    at: new Date().toISOString(),
    status: 'running',
    previousStatus: 'creating',
    reason: null,
    message: null,
    readyReplicas: 1,
    replicas: 1,
    endpoints: [{ replicaId: 'r-1', url: 'http://127.0.0.1:9' }],
    generation: 1,
    version: 1,
    deleted: false,
    ...overrides,
  };
}

/** A valid `service.intent` event with a fresh eventId. */
export function intentEventFixture(overrides: Partial<ServiceIntentEvent> = {}): ServiceIntentEvent {
  return {
    eventId: randomUUID(),
    serviceId: 'svc-contract0000000',
    workspaceId: 1,
    at: new Date().toISOString(),
    intent: 'create',
    generation: 1,
    ...overrides,
  };
}

/**
 * Polls until `condition` holds. Adapters differ in latency (a microtask in process, a network round trip
 * over NATS), so the suite waits for outcomes instead of sleeping for a guessed time.
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
