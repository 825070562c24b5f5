import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@remotegpu/core';
import { runStoreContract, serviceFixture } from '../contract/store.contract.js';
import { expectAppError, modelFixture, versionFixture } from '../contract/contract.fixtures.js';
import type { ServiceListFilter } from '../store.port.js';
import { serviceListSql } from './service.sqlite-list.js';
import { MIGRATIONS, migrate } from './sqlite.migrations.js';
import { openSqliteStore, type SqliteStore } from './sqlite.store.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rgpu-store-'));
}

runStoreContract('sqlite (temp file)', async () => {
  const dir = tempDir();
  return { store: openSqliteStore({ path: join(dir, 'store.db') }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SqliteStore', () => {
  let dir: string;
  let opened: SqliteStore[];
  const open = (opts: Partial<Parameters<typeof openSqliteStore>[0]> = {}): SqliteStore => {
    const store = openSqliteStore({ path: join(dir, 'data', 'store.db'), ...opts });
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    dir = tempDir();
    opened = [];
  });

  afterEach(async () => {
    for (const store of opened) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the parent directory and runs in WAL mode with foreign keys on', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('records every migration in user_version and applies none on reopen', async () => {
    const first = open();
    expect(first.migrationsApplied).toBe(MIGRATIONS.length);
    expect(first.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const input = serviceFixture({ memory: 2 ** 35 + 1 });
    await first.services.create(input);
    const model = await first.models.create(modelFixture());
    await first.close();

    const second = open();
    expect(second.migrationsApplied).toBe(0);
    expect(second.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await second.services.get(input.id)).toEqual({ ...input, version: 1 });
    expect(await second.models.get(model.id)).toEqual(model);
  });

  it('upgrades a database of schema 2: its rows read with null reason params, and new writes store them', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(old, MIGRATIONS.slice(0, 2));
    old
      .prepare(
        `INSERT INTO services (id, workspace_id, name, name_key, description, model_id, model_version, framework, cpu, memory, gpu, replicas,
           desired_state, status, status_reason, status_message, ready_replicas, generation, version, created_at, updated_at)
         VALUES ('svc-old0000000001', 1, 'old', 'old', '', 1, 'v1', 'onnx', 1, 1073741824, 0, 1, 'running', 'running',
           'replicas_unavailable', '0 of 1 replicas ready', 0, 1, 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
      )
      .run();
    old.prepare(`INSERT INTO service_events (service_id, type, status, reason, message, at) VALUES ('svc-old0000000001', 'stop_requested', 'stopping', NULL, 'stop requested', '2026-01-01T00:00:00.000Z')`).run();
    old.close();
    const store = open({ path });
    expect(store.migrationsApplied).toBe(MIGRATIONS.length - 2);
    expect(await store.services.get('svc-old0000000001')).toMatchObject({ statusReason: 'replicas_unavailable', statusParams: null, statusMessage: '0 of 1 replicas ready' });
    expect(await store.services.listEvents('svc-old0000000001')).toEqual([
      { serviceId: 'svc-old0000000001', type: 'stop_requested', status: 'stopping', reason: null, params: null, message: 'stop requested', at: '2026-01-01T00:00:00.000Z' },
    ]);
    const updated = await store.services.update('svc-old0000000001', 1, { statusParams: { ready: 0, desired: 1 } });
    expect(updated.statusParams).toEqual({ ready: 0, desired: 1 });
  });

  it('refuses a database written by a newer schema', async () => {
    const first = open();
    first.db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    await first.close();
    expect(() => open()).toThrow(/newer than this program knows/);
  });

  it('works in memory', async () => {
    const store = open({ path: ':memory:' });
    const input = serviceFixture();
    await store.services.create(input);
    expect((await store.services.get(input.id))?.id).toBe(input.id);
    expect(await store.ping()).toBe(true);
  });

  it('forgets idempotency keys after 24 hours', async () => {
    let now = new Date('2024-01-01T00:00:00Z');
    const store = open({ now: () => now });
    const claim = { scope: 'u', key: 'k', requestHash: 'h1' };
    const first = await store.services.create(serviceFixture(), claim);
    now = new Date('2024-01-01T23:59:00Z');
    expect((await store.services.create(serviceFixture(), claim)).service.id).toBe(first.service.id);
    now = new Date('2024-01-02T00:00:01Z');
    const later = await store.services.create(serviceFixture(), { ...claim, requestHash: 'h2' });
    expect(later.replayed).toBe(false);
    expect(later.service.id).not.toBe(first.service.id);
    expect(store.db.prepare('SELECT count(*) FROM idempotency_keys').pluck().get()).toBe(1);
  });

  it('answers 40400 when a replayed key points at a purged service', async () => {
    const store = open();
    const claim = { scope: 'u', key: 'k', requestHash: 'h' };
    const { service } = await store.services.create(serviceFixture(), claim);
    await store.services.update(service.id, 1, { deletedAt: new Date().toISOString() });
    await store.services.purge(service.id);
    await expectAppError(store.services.create(serviceFixture(), claim), ErrorCode.NotFound);
  });

  it('answers 40400 for a version of a model that does not exist', async () => {
    const store = open();
    await expectAppError(store.models.addVersion(versionFixture(424_242)), ErrorCode.NotFound);
  });

  it('serves every list shape from indexes: no table scan, and a page never sorts', () => {
    const store = open();
    const plan = (sql: string, params: unknown[]): string =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    const shapes: ServiceListFilter[] = [];
    for (const visibleWorkspaces of ['all', [1, 2]] as const)
      for (const workspaceId of [undefined, 1])
        for (const status of [undefined, 'running'] as const)
          for (const nameContains of [undefined, 'net'])
            shapes.push({ visibleWorkspaces, workspaceId, status, nameContains, page: 1, pageSize: 20 });
    for (const filter of shapes) {
      const { countSql, pageSql, params } = serviceListSql(filter);
      const count = plan(countSql, params);
      const page = plan(pageSql, [...params, 20, 0]);
      expect(count, countSql).toMatch(/(SEARCH|SCAN) services USING (COVERING )?INDEX services_live_/);
      expect(page, pageSql).toMatch(/(SEARCH|SCAN) services USING INDEX services_live_/);
      expect(page, pageSql).not.toMatch(/TEMP B-TREE/);
    }
  });
});
