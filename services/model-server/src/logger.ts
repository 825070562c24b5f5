import { pino, destination, type Logger } from 'pino';

/**
 * JSON logs on stderr: stdout belongs to the one `listening` line the local runtime reads. Writes are synchronous
 * so that the reason for an early exit is on the terminal before the process ends; the hot path logs only failures.
 */
export function createLogger(level: string = 'info'): Logger {
  const stream = destination({ dest: 2, sync: true });
  // A parent that died leaves a broken pipe; losing a log line then is better than crashing on EPIPE.
  stream.on('error', () => {});
  return pino({ name: 'model-server', level }, stream);
}
