import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '@remotegpu/testkit';
import { ServiceLogBook } from './replica.logs.js';

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function book(limits = { linesPerReplica: 5, exitedReplicasKept: 1, fileBytes: 200 }) {
  const dir = await tempDir('rgpu-logs-');
  cleanups.push(dir.cleanup);
  return { dir: dir.path, book: new ServiceLogBook(dir.path, 'svc-a', limits, silent) };
}

describe('ServiceLogBook (local runtime replica logs)', () => {
  it('keeps the newest lines per replica, merges replicas oldest first, filters by replica, tail and since', async () => {
    const { book: b } = await book();
    for (let i = 0; i < 8; i++) b.append('r1', 'stderr', `one ${i}`);
    b.append('r2', 'stdout', 'two 0');
    const all = b.read({});
    expect(all.filter((l) => l.replica === 'r1').map((l) => l.line)).toEqual(['one 3', 'one 4', 'one 5', 'one 6', 'one 7']);
    expect(all.at(-1)).toMatchObject({ replica: 'r2', stream: 'stdout', line: 'two 0' });
    expect(b.read({ replica: 'r2' }).map((l) => l.line)).toEqual(['two 0']);
    expect(b.read({ tail: 2 }).map((l) => l.line)).toEqual(['one 7', 'two 0']);
    expect(b.read({ since: new Date(Date.now() + 1000) })).toEqual([]);
  });

  it('rotates the file past its size (at most two files per replica), and followers get new lines until closed', async () => {
    const { dir, book: b } = await book();
    const seen: string[] = [];
    const follow = b.follow({ replica: 'r1' }, (l) => seen.push(l.line));
    for (let i = 0; i < 20; i++) b.append('r1', 'stderr', `line ${i} ${'x'.repeat(20)}`);
    b.append('r2', 'stderr', 'other replica');
    follow.close();
    b.append('r1', 'stderr', 'after close');
    expect(seen).toHaveLength(20);
    const file = join(dir, 'logs', 'svc-a', 'r1.log');
    expect(statSync(file).size).toBeLessThanOrEqual(200);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(200);
    expect(readFileSync(file, 'utf8')).toContain('after close');
  });

  it('keeps only the newest exited replicas, and discard removes memory and files', async () => {
    const { dir, book: b } = await book();
    b.append('r1', 'stderr', 'a');
    b.append('r2', 'stderr', 'b');
    b.exited('r1');
    b.exited('r2');
    expect(b.read({}).map((l) => l.replica)).toEqual(['r2']);
    expect(existsSync(join(dir, 'logs', 'svc-a', 'r1.log'))).toBe(false);
    b.discard();
    expect(b.read({})).toEqual([]);
    expect(existsSync(join(dir, 'logs', 'svc-a'))).toBe(false);
  });
});
