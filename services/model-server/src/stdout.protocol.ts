import type { ExecutionProvider } from './model.session.js';

/**
 * What a replica says on stdout, one JSON object per line, for the runtime that started it. On success exactly one
 * line, once the model is loaded and the port is listening: `{"event":"listening","port":<n>,"device":"cpu"|"cuda"}`.
 * A process that can never serve its configuration says why in one `failed` line and exits with EXIT_CONFIG; one
 * that failed for a reason a retry may fix (the artifact could not be downloaded) says so too and exits 1.
 * `code` and `params`, when present, are a status reason of core's catalog (`artifact_checksum_mismatch`,
 * `artifact_fetch_failed`) that the runtime reports instead of a generic `model_load_failed`. The same line is
 * written to `RGPU_TERMINATION_MESSAGE_PATH` when set (Kubernetes: `lastState.terminated.message`).
 */
export type FailureParams = Readonly<Record<string, string | number>>;

export type StdoutEvent =
  | { event: 'listening'; port: number; device: ExecutionProvider }
  | { event: 'failed'; exit_code: number; reason: string; code?: string; params?: FailureParams };

/** sysexits.h EX_CONFIG: a configuration error that a restart will not fix. */
export const EXIT_CONFIG = 78;

export function listeningLine(port: number, device: ExecutionProvider): string {
  return `${JSON.stringify({ event: 'listening', port, device } satisfies StdoutEvent)}\n`;
}

export function failedLine(exitCode: number, reason: string, cause?: { code: string; params: FailureParams }): string {
  const event: StdoutEvent = { event: 'failed', exit_code: exitCode, reason, ...(cause ? { code: cause.code, params: cause.params } : {}) };
  return `${JSON.stringify(event)}\n`;
}

const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

function paramsOf(value: unknown): FailureParams | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  return Object.fromEntries(entries) as FailureParams;
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
    const code = typeof v.code === 'string' && REASON_CODE.test(v.code) ? v.code : undefined;
    return { event: 'failed', exit_code: v.exit_code, reason: v.reason, ...(code ? { code, params: paramsOf(v.params) ?? {} } : {}) };
  }
  return null;
}
