import { destination, pino, type Level, type Logger } from 'pino';

/**
 * The JSON logger of a platform process, on stdout. Synchronous: an async logger's exit flush retries EPIPE
 * forever when the reader of our output is gone, and a line written just before exit must not be lost.
 */
export function stdoutLogger(level: Level | 'silent', bindings: Record<string, string> = {}): Logger {
  const root = pino({ level }, destination({ dest: 1, sync: true }));
  return Object.keys(bindings).length ? root.child(bindings) : root;
}
