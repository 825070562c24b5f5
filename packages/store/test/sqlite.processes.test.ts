import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/sqlite/sqlite.store.js';
import { serviceFixture } from '../src/contract/contract.fixtures.js';

/**
 * Distributed mode on one host: gateway, provisioner and router processes share one SQLite file (WAL). Several
 * processes writing at once must wait for each other (busy_timeout, BEGIN IMMEDIATE), never fail with
 * SQLITE_BUSY; an optimistic-concurrency loss is the only refusal, and a re-read fixes it. Real processes, the
 * built adapter.
 */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');

const WORKER = `
import { openSqliteStore } from ${JSON.stringify(path.join(DIST, 'index.js'))};
import { serviceFixture } from ${JSON.stringify(path.join(DIST, 'contract/contract.fixtures.js'))};
const [file, worker, count, sharedId] = process.argv.slice(1);
const result = { created: 0, updates: 0, staleRetries: 0, errors: [] };
let stage = 'open';
try {
  const store = openSqliteStore({ path: file });
  stage = 'write';
  for (let i = 0; i < Number(count); i++) {
    try {
      await store.services.create(serviceFixture({ workspaceId: 1 + Number(worker) }));
      result.created++;
    } catch (err) { result.errors.push(String(err.code ?? '') + ' ' + err.message); }
    if (!sharedId) continue;
    for (let attempt = 0; attempt < 200; attempt++) {
      const current = await store.services.get(sharedId);
      try {
        await store.services.update(sharedId, current.version, { description: 'w' + worker + '-' + i });
        result.updates++;
        break;
      } catch (err) {
        if (err.code === 40900 && err.reason === 'stale_version') { result.staleRetries++; continue; }
        result.errors.push(String(err.code ?? '') + ' ' + err.message);
        break;
      }
    }
  }
  stage = 'close';
  await store.close();
} catch (err) { result.errors.push(stage + ': ' + String(err.code ?? '') + ' ' + err.message + ' ' + String(err.stack).split('\\n').slice(1, 4).join(' | ')); }
process.stdout.write(JSON.stringify(result));
`;

interface WorkerResult {
  created: number;
  updates: number;
  staleRetries: number;
  errors: string[];
}

function runWorker(args: string[]): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out) as WorkerResult);
      } catch {
        reject(new Error(`worker exited ${code}: ${out}${err}`));
      }
    });
  });
}

describe('SQLite shared by several processes (distributed mode on one host)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rgpu-store-procs-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes opening a fresh file at the same moment all migrate it or wait, none fails', async () => {
    // A few rounds: the race of switching a new file to WAL is a matter of microseconds.
    for (let round = 0; round < 3; round++) {
      const file = path.join(dir, `fresh-${round}.db`);
      const results = await Promise.all(Array.from({ length: 6 }, (_, worker) => runWorker([file, String(worker), '5', ''])));
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      const store = openSqliteStore({ path: file });
      expect((await store.services.listForReconcile()).length).toBe(30);
      await store.close();
    }
  }, 60_000);

  it('concurrent writers never see SQLITE_BUSY: every create lands, every update of one record applies once', async () => {
    const file = path.join(dir, 'shared.db');
    const store = openSqliteStore({ path: file });
    const { service: shared } = await store.services.create(serviceFixture({ workspaceId: 99 }));
    const workers = 4;
    const perWorker = 60;
    const results = await Promise.all(Array.from({ length: workers }, (_, worker) => runWorker([file, String(worker), String(perWorker), shared.id])));
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.reduce((n, r) => n + r.created, 0)).toBe(workers * perWorker);
    expect(results.reduce((n, r) => n + r.updates, 0)).toBe(workers * perWorker);
    // Each update bumped the version exactly once: no lost write, no double apply.
    expect((await store.services.get(shared.id))!.version).toBe(shared.version + workers * perWorker);
    expect((await store.services.listForReconcile()).length).toBe(1 + workers * perWorker);
    await store.close();
  }, 60_000);
});
