import type { EventName } from '@remotegpu/core';

/**
 * Subject token of each event name. A `Record` over EventName, so adding an event to core fails the build here
 * until it has a subject. `svc` keeps subjects short: they are matched on every message.
 */
const EVENT_TOKENS: Record<EventName, string> = {
  'service.intent': 'svc.intent',
  'service.status': 'svc.status',
};

/**
 * A subject token from an id: NATS tokens cannot hold `.`, `*`, `>` or whitespace, and ids come from payloads.
 * Ids as the platform makes them (`svc-…`, workspace numbers) pass unchanged; anything else is percent-encoded,
 * so distinct ids keep distinct tokens. The payload still carries the real id; subjects only serve filtering.
 */
export function subjectToken(id: string | number): string {
  const text = String(id);
  if (/^[A-Za-z0-9_-]+$/.test(text)) return text;
  return encodeURIComponent(text).replace(/[.*!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) || '%00';
}

/** `<prefix>.svc.intent.<workspaceId>.<serviceId>` (DESIGN §2.1): a consumer can filter by event, workspace, service. */
export function eventSubject(prefix: string, name: EventName, workspaceId: number, serviceId: string): string {
  return `${prefix}.${EVENT_TOKENS[name]}.${subjectToken(workspaceId)}.${subjectToken(serviceId)}`;
}

/** Every event of one name, any workspace and service: the filter of that event's consumers. */
export function eventFilter(prefix: string, name: EventName): string {
  return `${prefix}.${EVENT_TOKENS[name]}.>`;
}

/** What the stream captures: everything under the prefix. */
export function streamSubjects(prefix: string): string[] {
  return [`${prefix}.>`];
}

/**
 * The durable consumer of one group for one event, e.g. `provisioner__service_intent`: one per group, shared by
 * its members, so each event goes to one of them. Consumer names cannot hold `.`, `*`, `>`, path separators or
 * whitespace.
 */
export function durableName(group: string, name: EventName): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${safe(group)}__${safe(name)}`;
}

/** A subject prefix or stream name must be usable as given; checked once at connect. */
export function assertSubjectPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
    throw new Error(`invalid NATS subject prefix "${prefix}": tokens of letters, digits, "-" and "_" separated by "."`);
  }
}

export function assertStreamName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid JetStream stream name "${name}": letters, digits, "-" and "_"`);
}
