import { describe, expect, it } from 'vitest';
import { followByPolling, type TimedLine } from './log-follow.js';

describe('followByPolling', () => {
  it('hands on each newer line once, keeps same-timestamp lines apart, survives a failed read, stops on close', async () => {
    const later = (ms: number) => new Date(Date.now() + ms).toISOString();
    const t1 = later(60_000);
    const t2 = later(120_000);
    const reads: (TimedLine[] | Error)[] = [
      [{ replica: 'a', at: t1, line: 'one' }],
      new Error('provisioner away'),
      [{ replica: 'a', at: t1, line: 'one' }, { replica: 'b', at: t1, line: 'one' }, { replica: 'a', at: t2, line: 'two' }],
    ];
    const seen: string[] = [];
    const follow = followByPolling(
      async () => {
        const next = reads.shift() ?? [];
        if (next instanceof Error) throw next;
        return next;
      },
      (line) => seen.push(`${line.replica}:${line.line}`),
      5,
    );
    while (reads.length) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    follow.close();
    expect(seen).toEqual(['a:one', 'b:one', 'a:two']);
  });
});
