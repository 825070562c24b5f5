import { createHash } from 'node:crypto';

/**
 * A short, stable digest of a JSON value: object keys sorted, so the same object built in another key order hashes
 * the same. 16 hex digits (64 bits) tell apart the few specs one service ever has; it is a change detector, not a
 * security boundary.
 */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
