import type { EventMap, EventName } from '@remotegpu/core';
import { parseEvent } from '../event-validation.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(payload: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(payload));
}

export type Decoded<K extends EventName> = { ok: true; event: EventMap[K] } | { ok: false; error: unknown };

/** JSON, then the core schema: whatever arrives from the wire is checked before a handler sees it. */
export function decodeEvent<K extends EventName>(name: K, data: Uint8Array): Decoded<K> {
  try {
    return { ok: true, event: parseEvent(name, JSON.parse(decoder.decode(data))) };
  } catch (error) {
    return { ok: false, error };
  }
}
