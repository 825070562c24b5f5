import type { ExecutionProvider } from './model.session.js';

/**
 * What a replica says on stdout, one JSON object per line, for the runtime that started it. On success exactly one
 * line, once the model is loaded and the port is listening: `{"event":"listening","port":<n>,"device":"cpu"|"cuda"}`.
 * A process that can never serve its configuration says why in one `failed` line and exits with EXIT_CONFIG.
 */
export type StdoutEvent =
  | { event: 'listening'; port: number; device: ExecutionProvider }
  | { event: 'failed'; exit_code: number; reason: string };

/** sysexits.h EX_CONFIG: a configuration error that a restart will not fix. */
export const EXIT_CONFIG = 78;

export function listeningLine(port: number, device: ExecutionProvider): string {
  return `${JSON.stringify({ event: 'listening', port, device } satisfies StdoutEvent)}\n`;
}

export function failedLine(exitCode: number, reason: string): string {
  return `${JSON.stringify({ event: 'failed', exit_code: exitCode, reason } satisfies StdoutEvent)}\n`;
}

/** Reads one stdout line of a replica; null for anything else (a stray print must not be mistaken for an event). */
export function parseStdoutEvent(line: string): StdoutEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.event === 'listening' && Number.isInteger(v.port) && (v.device === 'cpu' || v.device === 'cuda')) {
    return { event: 'listening', port: v.port as number, device: v.device };
  }
  if (v.event === 'failed' && typeof v.exit_code === 'number' && typeof v.reason === 'string') {
    return { event: 'failed', exit_code: v.exit_code, reason: v.reason };
  }
  return null;
}
