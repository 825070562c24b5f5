import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.port.js';
import { migrate } from './sqlite.migrations.js';
import { SqliteModelRepository } from './model.sqlite-repository.js';
import { SqliteServiceRepository } from './service.sqlite-repository.js';

export interface SqliteStoreOptions {
  /** A file path, or `':memory:'` for a private in-memory database. */
  path: string;
  /** How long a write waits for another process's lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** The clock for idempotency-key expiry and default `updatedAt`; tests pass a fake one. */
  now?: () => Date;
}

/** The embedded adapter: one SQLite file in WAL mode, safe to share between processes on one host. */
export class SqliteStore implements Store {
  readonly services: SqliteServiceRepository;
  readonly models: SqliteModelRepository;
  /** Migration steps this open applied (0 when the file was already current). */
  readonly migrationsApplied: number;

  constructor(
    /** The open connection, for diagnostics and tests; writes belong to the repositories. */
    readonly db: Database.Database,
    now: () => Date,
  ) {
    this.migrationsApplied = migrate(db);
    this.services = new SqliteServiceRepository(db, now);
    this.models = new SqliteModelRepository(db);
  }

  async ping(): Promise<boolean> {
    try {
      return this.db.prepare('SELECT 1').pluck().get() === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.db.close();
  }
}

export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const inMemory = opts.path === ':memory:';
  if (!inMemory) mkdirSync(dirname(opts.path), { recursive: true });
  const busyTimeoutMs = Math.floor(opts.busyTimeoutMs ?? 5000);
  const db = new Database(opts.path, { timeout: busyTimeoutMs });
  try {
    return retryWhileBusy(busyTimeoutMs, () => {
      // Set before any transaction: journal_mode cannot change inside one. WAL lets readers run beside a writer,
      // and with it synchronous=NORMAL is still crash-safe (a power cut may lose only the last commits).
      if (!inMemory) db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      return new SqliteStore(db, opts.now ?? (() => new Date()));
    });
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Several processes of one host (gateway, provisioner, router) may open the same file at the same moment. Most
 * lock waits go through the busy timeout, but a few steps of opening (switching a new file to WAL, which upgrades a
 * shared lock; the WAL's first recovery) are answered with SQLITE_BUSY at once, since waiting there could deadlock.
 * Each step is safe to repeat (the migrations run in one transaction), so opening retries them until the timeout.
 */
function retryWhileBusy<T>(timeoutMs: number, step: () => T): T {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return step();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() + pause > deadline) throw err;
      // Opening is synchronous (better-sqlite3); so is this pause, and it happens only at start.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}
