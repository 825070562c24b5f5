import { errors, isAppError } from '@remotegpu/core';

/** Driver errors that mean "the server cannot be reached now" (the request would succeed after a reconnect). */
const CONNECTION_ERROR_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoPoolClearedError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
]);
/** Socket errors the driver sometimes hands on unwrapped when a pooled connection is reset under a write. */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Server codes of a node going away (shutdown, step-down): the same retry-later answer. */
const UNAVAILABLE_SERVER_CODES = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);

export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && CONNECTION_ERROR_NAMES.has(name)) return true;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  return typeof code === 'number' && UNAVAILABLE_SERVER_CODES.has(code);
}

/** A duplicate-key error (11000) and the index it hit, read from `keyPattern` as mongod reports it. */
export function duplicateKeyFields(err: unknown): string[] | undefined {
  if (typeof err !== 'object' || err === null || (err as { code?: unknown }).code !== 11000) return undefined;
  const pattern = (err as { keyPattern?: Record<string, unknown> }).keyPattern;
  return pattern ? Object.keys(pattern) : [];
}

/**
 * Runs one store operation: AppErrors pass through, a lost connection becomes 503 with Retry-After (the caller's
 * answer, and `/readyz` says not ready meanwhile), anything else is a defect and stays as it is (500).
 */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (isAppError(err)) throw err;
    if (isConnectionError(err)) throw errors.storeUnavailable(err);
    throw err;
  }
}
