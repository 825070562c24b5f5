import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  NatsError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import type { EventName } from '@remotegpu/core';
import type { BusLogger } from '../bus-logger.js';
import type { GroupSettings, ResolvedNatsBusOptions } from './nats-bus.options.js';
import { durableName, eventFilter, streamSubjects } from './nats.subjects.js';

/** JetStream API error codes (nats-server `errors.json`) this module tells apart. */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

function apiErrorCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

function desiredStream(options: ResolvedNatsBusOptions): Partial<StreamConfig> & { name: string } {
  const { stream } = options;
  return {
    name: options.streamName,
    description: 'RemoteGPU platform events (intents, status)',
    subjects: streamSubjects(options.subjectPrefix),
    // Limits, not work-queue: status events fan out to every gateway and router, and each group has its own cursor.
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(stream.maxAgeMs),
    max_bytes: stream.maxBytes,
    max_msgs: -1,
    max_msg_size: stream.maxMsgSize,
    duplicate_window: nanos(stream.duplicateWindowMs),
    num_replicas: stream.replicas,
  };
}

/** The settings we own; anything else on the stream (set by an operator) is left alone. */
const STREAM_KEYS = ['subjects', 'discard', 'max_age', 'max_bytes', 'max_msg_size', 'duplicate_window', 'num_replicas'] as const;

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Creates the stream or brings its limits to ours. Several processes start at once: a lost creation race
 * ("already in use") is read back and updated like an existing stream. Storage cannot change once created:
 * a stream made with other storage is used as it is, with a warning.
 */
export async function ensureStream(jsm: JetStreamManager, options: ResolvedNatsBusOptions, logger: BusLogger): Promise<StreamInfo> {
  const desired = desiredStream(options);
  let info = await streamInfo(jsm, desired.name);
  if (!info) {
    try {
      return await jsm.streams.add(desired);
    } catch (err) {
      info = await streamInfo(jsm, desired.name);
      if (!info) throw err;
    }
  }
  if (info.config.storage !== StorageType.File) {
    logger.warn({ stream: desired.name, storage: info.config.storage }, 'bus: the event stream exists with other storage than file; using it as it is');
  }
  const differs = STREAM_KEYS.filter((key) => !sameValue(info.config[key], desired[key]));
  if (differs.length === 0) return info;
  const update = { ...info.config, ...Object.fromEntries(differs.map((key) => [key, desired[key]])) };
  return jsm.streams.update(desired.name, update);
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (apiErrorCode(err) === STREAM_NOT_FOUND) return undefined;
    throw err;
  }
}

export interface GroupConsumerSpec {
  group: string;
  event: EventName;
  maxDeliver: number;
}

function desiredConsumer(options: ResolvedNatsBusOptions, spec: GroupConsumerSpec, group: GroupSettings): Partial<ConsumerConfig> {
  return {
    durable_name: durableName(spec.group, spec.event),
    description: `group "${spec.group}" of ${spec.event}`,
    filter_subject: eventFilter(options.subjectPrefix, spec.event),
    ack_policy: AckPolicy.Explicit,
    // A group that never existed starts with what comes next; an existing one resumes where its members left off,
    // so events published while no member ran are delivered when one starts.
    deliver_policy: DeliverPolicy.New,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(group.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: group.maxAckPending,
  };
}

const CONSUMER_KEYS = ['ack_wait', 'max_deliver', 'max_ack_pending', 'description'] as const;

/**
 * The group's durable pull consumer, created or updated to our settings. Members may start at the same time:
 * a lost creation race is read back. The last member to start sets AckWait and MaxDeliver for the group.
 */
export async function ensureGroupConsumer(
  jsm: JetStreamManager,
  options: ResolvedNatsBusOptions,
  spec: GroupConsumerSpec,
): Promise<ConsumerInfo> {
  const desired = desiredConsumer(options, spec, options.group);
  const name = desired.durable_name as string;
  let info = await consumerInfo(jsm, options.streamName, name);
  if (!info) {
    try {
      return await jsm.consumers.add(options.streamName, desired);
    } catch (err) {
      info = await consumerInfo(jsm, options.streamName, name);
      if (!info) throw err;
    }
  }
  const existing = info.config;
  if (existing.filter_subject !== desired.filter_subject) {
    throw new Error(`bus: consumer ${name} on ${options.streamName} filters "${existing.filter_subject}", not "${desired.filter_subject}"; delete it or use another group`);
  }
  const differs = CONSUMER_KEYS.filter((key) => !sameValue(existing[key], desired[key]));
  if (differs.length === 0) return info;
  return jsm.consumers.update(options.streamName, name, Object.fromEntries(differs.map((key) => [key, desired[key]])));
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (apiErrorCode(err) === CONSUMER_NOT_FOUND) return undefined;
    throw err;
  }
}
