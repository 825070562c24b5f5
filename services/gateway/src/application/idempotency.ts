import { createHash } from 'node:crypto';
import { errors, type CreateServiceInput } from '@remotegpu/core';
import type { IdempotencyClaim } from '@remotegpu/store';

const MAX_KEY_LENGTH = 255;

/** Stable JSON: object keys sorted, undefined dropped, so equal inputs hash alike whatever their field order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * An idempotency key (REST `Idempotency-Key` header, GraphQL `idempotencyKey` argument) as a store claim.
 * The hash covers the *validated* input with defaults filled in, so REST and GraphQL agree on what "the same
 * request" is, and an omitted `replicas` equals `replicas: 1`. `field` names the key in a 400.
 */
export function idempotencyClaim(
  key: string | null | undefined,
  input: CreateServiceInput,
  field: string,
): Omit<IdempotencyClaim, 'scope'> | undefined {
  if (key === undefined || key === null) return undefined;
  if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
    throw errors.invalidInput([
      { field, message: { zh: `长度必须为 1 到 ${MAX_KEY_LENGTH} 个字符`, en: `must be 1 to ${MAX_KEY_LENGTH} characters long` } },
    ]);
  }
  return { key, requestHash: createHash('sha256').update(canonicalJson(input)).digest('hex') };
}
