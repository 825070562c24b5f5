import type { BusLogger } from '../bus-logger.js';

export interface NatsBusOptions {
  /** `NATS_URL`, e.g. `nats://127.0.0.1:4222` (a comma-separated list for a cluster). */
  url: string;
  logger?: BusLogger;
  /** Shown by the server (`/connz`), e.g. `provisioner-<host>-<pid>`. */
  connectionName?: string;
  /** The one stream of platform events; tests give their own so runs never share state. Default `RGPU_EVENTS`. */
  streamName?: string;
  /** Subject prefix the stream captures (`<prefix>.>`); must not overlap another stream's. Default `rgpu`. */
  subjectPrefix?: string;
  stream?: Partial<StreamLimits>;
  group?: Partial<GroupSettings>;
  publish?: Partial<PublishSettings>;
  /** How long the first connection may take before connect fails. Default 5 s. */
  connectTimeoutMs?: number;
  /** Pause between reconnect attempts (the client retries forever). Default 250 ms. */
  reconnectWaitMs?: number;
  /** close(): how long in-flight handlers may take to finish (and ack) before the connection is drained. Default 10 s. */
  closeTimeoutMs?: number;
}

export interface StreamLimits {
  /** Events older than this are discarded; consumers only need recent events (resync covers the rest). Default 24 h. */
  maxAgeMs: number;
  /** The stream never grows past this; the oldest events go first (discard old). Default 512 MiB. */
  maxBytes: number;
  /** The largest event accepted. Default 1 MiB (events are small; a huge one is a bug). */
  maxMsgSize: number;
  /** De-duplication by `Nats-Msg-Id` (= eventId): at least 2 minutes (DESIGN §2.1). Default 2 min. */
  duplicateWindowMs: number;
  /** Copies in a JetStream cluster. Default 1 (one server). */
  replicas: number;
}

export interface GroupSettings {
  /** How long a delivered event may stay unacknowledged before the server hands it to another member. Default 30 s. */
  ackWaitMs: number;
  /** Deliveries in all when a subscription gives no `maxDeliver`. Default 5. */
  maxDeliver: number;
  /** The first redelivery delay after a throwing handler, doubled per delivery up to `nakMaxDelayMs`. Default 500 ms. */
  nakDelayMs: number;
  nakMaxDelayMs: number;
  /**
   * How long a held event is kept alive with "in progress" signals (a long reconcile). Past it the signals stop,
   * so an event stuck in a hung handler goes to another member after AckWait. Default 10 min.
   */
  maxInProgressMs: number;
  /** Events pulled per request; each is kept alive while it waits for the handler. Default 32. */
  batch: number;
  /** Unacknowledged events per group on the server; delivery pauses past it. Default 1000. */
  maxAckPending: number;
}

export interface PublishSettings {
  /** One attempt's wait for the stream's acknowledgement. Default 5 s. */
  attemptTimeoutMs: number;
  /**
   * Retries (timeouts, no responders, disconnects) stop after this long in all. Kept under the duplicate window,
   * so a retry is always recognised as the same event. Default 30 s.
   */
  deadlineMs: number;
}

export interface ResolvedNatsBusOptions {
  url: string;
  connectionName: string | undefined;
  streamName: string;
  subjectPrefix: string;
  stream: StreamLimits;
  group: GroupSettings;
  publish: PublishSettings;
  connectTimeoutMs: number;
  reconnectWaitMs: number;
  closeTimeoutMs: number;
}

export const DEFAULT_STREAM_NAME = 'RGPU_EVENTS';
export const DEFAULT_SUBJECT_PREFIX = 'rgpu';
const MIN_DUPLICATE_WINDOW_MS = 2 * 60_000;

export function resolveNatsBusOptions(options: NatsBusOptions): ResolvedNatsBusOptions {
  const resolved: ResolvedNatsBusOptions = {
    url: options.url,
    connectionName: options.connectionName,
    streamName: options.streamName ?? DEFAULT_STREAM_NAME,
    subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
    stream: {
      maxAgeMs: 24 * 3_600_000,
      maxBytes: 512 * 1024 * 1024,
      maxMsgSize: 1024 * 1024,
      duplicateWindowMs: MIN_DUPLICATE_WINDOW_MS,
      replicas: 1,
      ...options.stream,
    },
    group: {
      ackWaitMs: 30_000,
      maxDeliver: 5,
      nakDelayMs: 500,
      nakMaxDelayMs: 30_000,
      maxInProgressMs: 10 * 60_000,
      batch: 32,
      maxAckPending: 1000,
      ...options.group,
    },
    publish: { attemptTimeoutMs: 5_000, deadlineMs: 30_000, ...options.publish },
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    reconnectWaitMs: options.reconnectWaitMs ?? 250,
    closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
  };
  const { stream, publish, group } = resolved;
  if (stream.duplicateWindowMs < MIN_DUPLICATE_WINDOW_MS) throw new Error('NATS bus: the duplicate window must be at least 2 minutes');
  if (stream.duplicateWindowMs > stream.maxAgeMs) throw new Error('NATS bus: the duplicate window cannot exceed the stream max age');
  if (publish.deadlineMs >= stream.duplicateWindowMs) throw new Error('NATS bus: publish retries must end inside the duplicate window');
  if (group.maxDeliver < 1 || group.batch < 1 || group.ackWaitMs < 1_000) throw new Error('NATS bus: maxDeliver and batch ≥ 1, ackWait ≥ 1 s');
  return resolved;
}

/** Redelivery delay after the n-th failed delivery (1-based): exponential, capped. */
export function nakDelay(group: GroupSettings, deliveries: number): number {
  return Math.min(group.nakMaxDelayMs, group.nakDelayMs * 2 ** Math.max(0, deliveries - 1));
}
