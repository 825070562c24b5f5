/** The little a bus adapter logs; a pino `Logger` fits it. */
export interface BusLogger {
  error(context: object, message: string): void;
  warn(context: object, message: string): void;
}

/** Without a logger, failures still surface on stderr: a swallowed handler error is a bug nobody finds. */
export const consoleBusLogger: BusLogger = {
  error: (context, message) => console.error(message, context),
  warn: (context, message) => console.warn(message, context),
};
