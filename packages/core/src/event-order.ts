/**
 * Ordering of status events across processes (DESIGN §2.1): every `service.status` event carries the service
 * record's optimistic-concurrency `version`, which only grows. A consumer applies an event only when its version
 * is not older than what it holds, so redelivery and reordering never move a status backwards. Wall-clock time
 * (`at`, `updatedAt`) is never compared: clocks of different hosts disagree.
 *
 * Equal versions apply: two events may legitimately describe the same record version (a forced publish, then
 * the finalizer's `deleted` event), and re-applying a snapshot is idempotent.
 */
export function supersedes(incomingVersion: number, heldVersion: number | undefined): boolean {
  return heldVersion === undefined || incomingVersion >= heldVersion;
}

/**
 * The newest version seen per service, for consumers that keep no other state (GraphQL fan-out). Deleted
 * services stay as tombstones, so a late event from before the deletion is refused; the oldest entries are
 * forgotten past `limit`, which bounds memory (an entry forgotten only lets a very late duplicate through).
 */
export class VersionGate {
  private readonly versions = new Map<string, { version: number; deleted: boolean }>();

  constructor(private readonly limit = 100_000) {}

  /** The newest version seen for a service, while remembered (a catch-up re-read sends only what is newer). */
  held(serviceId: string): number | undefined {
    return this.versions.get(serviceId)?.version;
  }

  /** True when the event should be delivered; records it. */
  admit(event: { serviceId: string; version: number; deleted: boolean }): boolean {
    const held = this.versions.get(event.serviceId);
    if (held?.deleted && !event.deleted) return false;
    if (!supersedes(event.version, held?.version)) return false;
    // Re-insert so that the Map's insertion order is least-recently-updated first.
    this.versions.delete(event.serviceId);
    this.versions.set(event.serviceId, { version: Math.max(event.version, held?.version ?? 0), deleted: event.deleted || held?.deleted === true });
    if (this.versions.size > this.limit) this.versions.delete(this.versions.keys().next().value as string);
    return true;
  }
}
