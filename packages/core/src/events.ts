import { z } from 'zod';
import { SERVICE_STATUSES } from './service.js';

/**
 * The typed event map (immich's EventMap, nats.js subjects): one zod schema per event name. Every adapter of
 * the EventBus validates payloads on the way in, so a malformed event is dropped at the edge, never handled.
 * Every event carries an `eventId` (dedupe across redeliveries) and the `workspaceId` (tenancy filtering).
 */
const base = {
  eventId: z.string().min(1),
  serviceId: z.string().min(1),
  workspaceId: z.number().int().positive(),
  at: z.string().min(1),
  /** The request that caused it, carried for logs across processes. */
  correlationId: z.string().optional(),
};

export const LIFECYCLE_INTENTS = ['create', 'update', 'stop', 'start', 'delete'] as const;

/** Gateway → provisioner: "look at this service again". Level-triggered: the payload is only a wake-up. */
export const ServiceIntentEvent = z.object({
  ...base,
  intent: z.enum(LIFECYCLE_INTENTS),
  generation: z.number().int().nonnegative(),
});
export type ServiceIntentEvent = z.infer<typeof ServiceIntentEvent>;

const serviceStatus = z.enum(SERVICE_STATUSES);

/** Provisioner → gateway (subscriptions) and router (routing table): what the service looks like now. */
export const ServiceStatusEvent = z.object({
  ...base,
  status: serviceStatus,
  previousStatus: serviceStatus.nullable(),
  reason: z.string().nullable(),
  /** The reason's parameters (status-reasons.ts), so each subscriber words it in its own language. */
  params: z.record(z.string(), z.union([z.string(), z.number()])).nullable().optional(),
  /** English wording, for logs and for reasons without a catalog entry. */
  message: z.string().nullable(),
  readyReplicas: z.number().int().nonnegative(),
  replicas: z.number().int().nonnegative(),
  /** Ready replicas' addresses; empty when none is ready. */
  endpoints: z.array(z.object({ replicaId: z.string(), url: z.string(), maxInFlight: z.number().int().positive().optional() })),
  generation: z.number().int().nonnegative(),
  /** The service record's optimistic-concurrency version: consumers order events by it, never by `at`. */
  version: z.number().int().nonnegative(),
  /** True once the service was deleted: consumers drop it. */
  deleted: z.boolean(),
});
export type ServiceStatusEvent = z.infer<typeof ServiceStatusEvent>;

export const EVENT_SCHEMAS = {
  'service.intent': ServiceIntentEvent,
  'service.status': ServiceStatusEvent,
} as const;

export type EventName = keyof typeof EVENT_SCHEMAS;
export type EventMap = { [K in EventName]: z.infer<(typeof EVENT_SCHEMAS)[K]> };
