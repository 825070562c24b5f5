import type Database from 'better-sqlite3';
import { errors, type InferenceService, type ServiceEvent } from '@remotegpu/core';
import type { IdempotencyClaim, NewService, Page, ServiceListFilter, ServicePatch, ServiceRepository } from '../store.port.js';
import {
  INSERT_COLUMNS,
  PATCH_COLUMNS,
  columnValue,
  SERVICE_COLUMNS,
  insertParams,
  patchedFields,
  toEvent,
  toService,
  type EventRow,
  type ServiceRow,
} from './service.sqlite-mapping.js';
import { isUniqueViolation, nameKey, pageWindow } from './sqlite.helpers.js';
import { serviceListSql } from './service.sqlite-list.js';

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

type CreateResult = { service: InferenceService; replayed: boolean };
type EventInput = Omit<ServiceEvent, 'serviceId'>;

interface KeyRow {
  request_hash: string;
  service_id: string;
}

export class SqliteServiceRepository implements ServiceRepository {
  private readonly insertService: Database.Statement<[Record<string, unknown>], ServiceRow>;
  private readonly insertEvent: Database.Statement<[string, string, string, string | null, string | null, string | null, string]>;
  private readonly selectLive: Database.Statement<[string], ServiceRow>;
  private readonly selectAny: Database.Statement<[string], ServiceRow>;
  private readonly selectState: Database.Statement<[string], { version: number; deleted_at: string | null; name: string }>;
  private readonly selectAllForReconcile: Database.Statement<[], ServiceRow>;
  private readonly deleteDeleted: Database.Statement<[string]>;
  private readonly selectUsingModel: Database.Statement<[number, number], ServiceRow>;
  private readonly selectUsingVersion: Database.Statement<[number, string, number], ServiceRow>;
  private readonly selectEvents: Database.Statement<[string, number], EventRow>;
  private readonly pruneKeys: Database.Statement<[string]>;
  private readonly selectKey: Database.Statement<[string, string], KeyRow>;
  private readonly insertKey: Database.Statement<[string, string, string, string, string]>;
  /** One prepared statement per combination of patched fields / list filters, built on first use. */
  private readonly updateStatements = new Map<string, Database.Statement<[Record<string, unknown>], ServiceRow>>();
  private readonly listStatements = new Map<string, { count: Database.Statement<unknown[], number>; page: Database.Statement<unknown[], ServiceRow> }>();
  private readonly createTx: Database.Transaction<(service: NewService, claim: IdempotencyClaim | undefined) => CreateResult>;
  private readonly updateTx: Database.Transaction<
    (id: string, expectedVersion: number, patch: ServicePatch, event: EventInput | undefined) => InferenceService
  >;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.insertService = db.prepare(
      `INSERT INTO services (${INSERT_COLUMNS.join(', ')}, version)
       VALUES (${INSERT_COLUMNS.map((c) => '@' + c).join(', ')}, 1) RETURNING ${SERVICE_COLUMNS}`,
    );
    this.insertEvent = db.prepare('INSERT INTO service_events (service_id, type, status, reason, params, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.selectLive = db.prepare(`SELECT ${SERVICE_COLUMNS} FROM services WHERE id = ? AND deleted_at IS NULL`);
    this.selectAny = db.prepare(`SELECT ${SERVICE_COLUMNS} FROM services WHERE id = ?`);
    this.selectState = db.prepare('SELECT version, deleted_at, name FROM services WHERE id = ?');
    this.selectAllForReconcile = db.prepare(`SELECT ${SERVICE_COLUMNS} FROM services ORDER BY created_at, id`);
    this.deleteDeleted = db.prepare('DELETE FROM services WHERE id = ? AND deleted_at IS NOT NULL');
    this.selectUsingModel = db.prepare(
      `SELECT ${SERVICE_COLUMNS} FROM services WHERE model_id = ? AND deleted_at IS NULL ORDER BY created_at, id LIMIT ?`,
    );
    this.selectUsingVersion = db.prepare(
      `SELECT ${SERVICE_COLUMNS} FROM services WHERE model_id = ? AND model_version = ? AND deleted_at IS NULL ORDER BY created_at, id LIMIT ?`,
    );
    // The newest `limit` events, handed back oldest first.
    this.selectEvents = db.prepare(
      `SELECT service_id, type, status, reason, params, message, at FROM (
         SELECT id, service_id, type, status, reason, params, message, at FROM service_events WHERE service_id = ? ORDER BY id DESC LIMIT ?
       ) ORDER BY id`,
    );
    this.pruneKeys = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
    this.selectKey = db.prepare('SELECT request_hash, service_id FROM idempotency_keys WHERE scope = ? AND key = ?');
    this.insertKey = db.prepare('INSERT INTO idempotency_keys (scope, key, request_hash, service_id, created_at) VALUES (?, ?, ?, ?, ?)');
    this.createTx = db.transaction((service, claim) => this.createInTransaction(service, claim));
    this.updateTx = db.transaction((id, expectedVersion, patch, event) => this.updateInTransaction(id, expectedVersion, patch, event));
  }

  async create(service: NewService, idempotency?: IdempotencyClaim): Promise<CreateResult> {
    // IMMEDIATE takes the write lock up front, so two processes racing on one key serialize instead of deadlocking.
    return this.createTx.immediate(service, idempotency);
  }

  async get(id: string): Promise<InferenceService | null> {
    const row = this.selectLive.get(id);
    return row ? toService(row) : null;
  }

  async getIncludingDeleted(id: string): Promise<InferenceService | null> {
    const row = this.selectAny.get(id);
    return row ? toService(row) : null;
  }

  async list(filter: ServiceListFilter): Promise<Page<InferenceService>> {
    if (filter.visibleWorkspaces !== 'all' && filter.visibleWorkspaces.length === 0) return { items: [], total: 0 };
    const { key, countSql, pageSql, params } = serviceListSql(filter);
    let statements = this.listStatements.get(key);
    if (!statements) {
      statements = {
        count: this.db.prepare<unknown[], number>(countSql).pluck(),
        page: this.db.prepare<unknown[], ServiceRow>(pageSql),
      };
      this.listStatements.set(key, statements);
    }
    const { limit, offset } = pageWindow(filter.page, filter.pageSize);
    // Both reads in one transaction so the total and the page describe the same snapshot.
    return this.db.transaction(() => ({
      total: statements.count.get(...params) ?? 0,
      items: statements.page.all(...params, limit, offset).map(toService),
    }))();
  }

  async update(id: string, expectedVersion: number, patch: ServicePatch, event?: EventInput): Promise<InferenceService> {
    return this.updateTx.immediate(id, expectedVersion, patch, event);
  }

  async listForReconcile(): Promise<InferenceService[]> {
    return this.selectAllForReconcile.all().map(toService);
  }

  async purge(id: string): Promise<void> {
    // Only a deleted record may go (its events follow by ON DELETE CASCADE): a stray purge of a live
    // service is a no-op rather than a silent loss.
    this.deleteDeleted.run(id);
  }

  async listEvents(serviceId: string, limit?: number): Promise<ServiceEvent[]> {
    return this.selectEvents.all(serviceId, limit ?? -1).map(toEvent);
  }

  async listUsingModel(modelId: number, version?: string, limit = 20): Promise<InferenceService[]> {
    const rows = version === undefined ? this.selectUsingModel.all(modelId, limit) : this.selectUsingVersion.all(modelId, version, limit);
    return rows.map(toService);
  }

  private createInTransaction(service: NewService, claim: IdempotencyClaim | undefined): CreateResult {
    const now = this.now();
    if (claim) {
      this.pruneKeys.run(new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString());
      const existing = this.selectKey.get(claim.scope, claim.key);
      if (existing) {
        if (existing.request_hash !== claim.requestHash) throw errors.idempotencyConflict();
        const first = this.selectAny.get(existing.service_id);
        // Purged since: there is nothing left to replay, and creating anew would resurrect what the user deleted.
        if (!first) throw errors.serviceNotFound(existing.service_id);
        return { service: toService(first), replayed: true };
      }
    }
    let row: ServiceRow;
    try {
      row = this.insertService.get(insertParams(service))!;
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.duplicateServiceName(service.name);
      throw err;
    }
    this.insertEvent.run(service.id, 'created', service.status, null, null, null, service.createdAt);
    if (claim) this.insertKey.run(claim.scope, claim.key, claim.requestHash, service.id, now.toISOString());
    return { service: toService(row), replayed: false };
  }

  private updateInTransaction(id: string, expectedVersion: number, patch: ServicePatch, event: EventInput | undefined): InferenceService {
    const fields = patchedFields(patch);
    const statement = this.updateStatement(fields);
    const params: Record<string, unknown> = {
      id,
      expected_version: expectedVersion,
      updated_at: patch.updatedAt ?? this.now().toISOString(),
      // A deleted record is hidden from every write except one that itself concerns deletion (the finalizer).
      allow_deleted: patch.deletedAt !== undefined ? 1 : 0,
    };
    for (const f of fields) params[PATCH_COLUMNS[f]] = columnValue(f, patch);
    if (patch.name !== undefined) params.name_key = nameKey(patch.name);

    let row: ServiceRow | undefined;
    try {
      row = statement.get(params);
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.duplicateServiceName(patch.name ?? this.selectState.get(id)?.name ?? id);
      throw err;
    }
    if (!row) {
      const state = this.selectState.get(id);
      if (!state || (state.deleted_at !== null && patch.deletedAt === undefined)) throw errors.serviceNotFound(id);
      throw errors.concurrentModification(id);
    }
    if (event) this.insertEvent.run(id, event.type, event.status, event.reason, event.params ? JSON.stringify(event.params) : null, event.message, event.at);
    return toService(row);
  }

  private updateStatement(fields: readonly (keyof typeof PATCH_COLUMNS)[]) {
    const key = fields.join(',');
    let statement = this.updateStatements.get(key);
    if (!statement) {
      const sets = fields.map((f) => `${PATCH_COLUMNS[f]} = @${PATCH_COLUMNS[f]}`);
      if (fields.includes('name')) sets.push('name_key = @name_key');
      sets.push('version = version + 1', 'updated_at = @updated_at');
      statement = this.db.prepare<[Record<string, unknown>], ServiceRow>(
        `UPDATE services SET ${sets.join(', ')}
         WHERE id = @id AND version = @expected_version AND (deleted_at IS NULL OR @allow_deleted)
         RETURNING ${SERVICE_COLUMNS}`,
      );
      this.updateStatements.set(key, statement);
    }
    return statement;
  }
}
