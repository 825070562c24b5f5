import { EVENT_SCHEMAS, type EventMap, type EventName } from '@remotegpu/core';

/**
 * A payload that does not match its event's schema. Publishing one is a defect in the publisher, so
 * `publish` rejects with this error; a malformed payload arriving from elsewhere is dropped on delivery.
 */
export class InvalidEventError extends Error {
  readonly eventName: string;
  readonly issues: readonly { path: PropertyKey[]; message: string }[];

  constructor(eventName: string, issues: readonly { path: PropertyKey[]; message: string }[]) {
    const summary = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    super(`invalid "${eventName}" event: ${summary}`);
    this.name = 'InvalidEventError';
    this.eventName = eventName;
    this.issues = issues;
  }
}

/**
 * Validates a payload against the core event map and returns a fresh copy (zod drops unknown keys), so a
 * publisher mutating its object afterwards, or one handler mutating what it got, affects nobody else.
 */
export function parseEvent<K extends EventName>(name: K, payload: unknown): EventMap[K] {
  const schema = EVENT_SCHEMAS[name];
  if (!schema) throw new InvalidEventError(String(name), [{ path: [], message: 'unknown event name' }]);
  const result = schema.safeParse(payload);
  if (!result.success) throw new InvalidEventError(name, result.error.issues);
  return result.data as EventMap[K];
}
