/**
 * How long one pull request waits on the server (nats.js default 30 s). nats.js derives from it the idle
 * heartbeat (half of it; two missed → the consumer is checked) and the retry delay when the consumer cannot be
 * checked after a reconnect (a jitter of 0.5–1.5 × it). With 30 s, a broker restart whose JetStream answers late
 * would leave a group idle for up to 45 s; 5 s bounds that, at the price of one small pull request per consumer
 * every 5 s when idle.
 */
export const PULL_EXPIRES_MS = 5_000;

export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The promise's value, or undefined once `ms` passed first; the timer never keeps the process alive. */
export async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
