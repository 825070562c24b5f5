/**
 * A configuration the process can never run with: every problem names its variable (`PORT: must be …`), all
 * of them at once. Every entry point exits 78 (EX_CONFIG) on it, through `runMain()`.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** By shape, not `instanceof`: two copies of this package in one process must still agree. */
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && err.name === 'ConfigError' && Array.isArray((err as ConfigError).problems);
}

/** EX_CONFIG from sysexits.h: supervisors (and the local runtime) do not restart a process that exits with it. */
export const EXIT_CONFIG = 78;
