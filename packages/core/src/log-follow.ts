/** What the follower needs of a log line (the runtime's and the gateway's line types both have it). */
export interface TimedLine {
  replica: string;
  /** ISO 8601. */
  at: string;
  line: string;
}

/**
 * Follows a log source that can only be read, not streamed (Kubernetes pod logs, the provisioner's endpoint): every
 * `pollMs` the lines since the newest seen are read and the newer ones handed on. Lines with the very same timestamp
 * as the newest seen are compared by replica and text, so that none is repeated and none is lost. A failed read is
 * skipped (the next poll reads the same window again).
 */
export function followByPolling<L extends TimedLine>(
  read: (since: Date) => Promise<L[]>,
  onLine: (line: L) => void,
  pollMs: number,
): { close(): void } {
  let newest = new Date().toISOString();
  let seenAtNewest = new Set<string>();
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = async (): Promise<void> => {
    const lines = await read(new Date(newest)).catch(() => [] as L[]);
    for (const line of lines) {
      if (closed) return;
      const key = `${line.replica}\u0000${line.line}`;
      if (line.at < newest || (line.at === newest && seenAtNewest.has(key))) continue;
      if (line.at > newest) {
        newest = line.at;
        seenAtNewest = new Set();
      }
      seenAtNewest.add(key);
      onLine(line);
    }
  };
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void poll().finally(schedule), pollMs);
    timer.unref();
  };
  schedule();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
