import type { LogLine } from '../application/index.js';

/** Lines a slow subscriber may have pending; older ones are dropped past it (a log follower must never grow memory). */
export const LOG_FEED_BACKLOG = 1000;

/**
 * An async iterator over followed log lines, for a GraphQL subscription. `return()` (the socket closed, the client
 * completed) ends it at once, even while a `next()` is waiting, and closes the follower.
 */
export class LogFeed implements AsyncIterableIterator<LogLine> {
  private readonly pending: LogLine[] = [];
  private waiting: ((result: IteratorResult<LogLine>) => void) | null = null;
  private done = false;
  private closeFollower: (() => void) | null = null;

  attach(close: () => void): void {
    if (this.done) close();
    else this.closeFollower = close;
  }

  push(line: LogLine): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: line, done: false });
      return;
    }
    if (this.pending.length >= LOG_FEED_BACKLOG) this.pending.shift();
    this.pending.push(line);
  }

  next(): Promise<IteratorResult<LogLine>> {
    const line = this.pending.shift();
    if (line) return Promise.resolve({ value: line, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<LogLine>> {
    this.done = true;
    this.pending.length = 0;
    this.closeFollower?.();
    this.closeFollower = null;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<LogLine> {
    return this;
  }
}
