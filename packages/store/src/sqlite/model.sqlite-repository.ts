import type Database from 'better-sqlite3';
import { errors, type BatchingConfig, type Framework, type Model, type ModelTask, type ModelVersion, type Preprocessing, type TensorSpec } from '@remotegpu/core';
import type { ModelListFilter, ModelRepository, NewModel, Page } from '../store.port.js';
import { isForeignKeyViolation, isPrimaryKeyViolation, isUniqueViolation, nameKey, pageWindow } from './sqlite.helpers.js';

interface ModelRow {
  id: number;
  workspace_id: number;
  name: string;
  framework: string;
  task: string;
  description: string;
  created_at: string;
  updated_at: string;
}

interface VersionRow {
  model_id: number;
  version: string;
  format: string;
  artifact_path: string;
  source: string;
  size_bytes: number;
  sha256: string;
  inputs: string;
  outputs: string;
  labels: string;
  preprocessing: string | null;
  batching: string | null;
  created_at: string;
}

const MODEL_COLUMNS = 'id, workspace_id, name, framework, task, description, created_at, updated_at';
const VERSION_COLUMNS =
  'model_id, version, format, artifact_path, source, size_bytes, sha256, inputs, outputs, labels, preprocessing, batching, created_at';

function toModel(row: ModelRow): Model {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    framework: row.framework as Framework,
    task: row.task as ModelTask,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    modelId: row.model_id,
    version: row.version,
    format: row.format as ModelVersion['format'],
    artifactPath: row.artifact_path,
    source: row.source,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    inputs: JSON.parse(row.inputs) as TensorSpec[],
    outputs: JSON.parse(row.outputs) as TensorSpec[],
    labels: JSON.parse(row.labels) as string[],
    preprocessing: row.preprocessing === null ? null : (JSON.parse(row.preprocessing) as Preprocessing),
    ...(row.batching === null ? {} : { batching: JSON.parse(row.batching) as BatchingConfig }),
    createdAt: row.created_at,
  };
}

type ListStatements = { count: Database.Statement<unknown[], number>; page: Database.Statement<unknown[], ModelRow> };

export class SqliteModelRepository implements ModelRepository {
  private readonly insertModel: Database.Statement<unknown[], ModelRow>;
  private readonly selectModel: Database.Statement<[number], ModelRow>;
  private readonly insertVersion: Database.Statement<unknown[], VersionRow>;
  private readonly selectVersion: Database.Statement<[number, string], VersionRow>;
  private readonly selectVersions: Database.Statement<[number], VersionRow>;
  private readonly listStatements = new Map<string, ListStatements>();
  private readonly removeModel: Database.Statement<[number]>;
  private readonly removeVersions: Database.Statement<[number]>;
  private readonly removeVersion: Database.Statement<[number, string], VersionRow>;
  private readonly updateBatching: Database.Statement<[string | null, number, string], VersionRow>;
  private readonly deleteTx: Database.Transaction<(id: number) => ModelVersion[] | null>;

  constructor(private readonly db: Database.Database) {
    this.insertModel = db.prepare(
      `INSERT INTO models (workspace_id, name, name_key, framework, task, description, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${MODEL_COLUMNS}`,
    );
    this.selectModel = db.prepare(`SELECT ${MODEL_COLUMNS} FROM models WHERE id = ?`);
    this.insertVersion = db.prepare(
      `INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${VERSION_COLUMNS}`,
    );
    this.selectVersion = db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_id = ? AND version = ?`);
    this.selectVersions = db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_id = ? ORDER BY created_at, rowid`);
    this.removeModel = db.prepare('DELETE FROM models WHERE id = ?');
    this.removeVersions = db.prepare('DELETE FROM model_versions WHERE model_id = ?');
    this.removeVersion = db.prepare(`DELETE FROM model_versions WHERE model_id = ? AND version = ? RETURNING ${VERSION_COLUMNS}`);
    this.updateBatching = db.prepare(`UPDATE model_versions SET batching = ? WHERE model_id = ? AND version = ? RETURNING ${VERSION_COLUMNS}`);
    // Versions first: they reference the model (foreign key).
    this.deleteTx = db.transaction((id: number) => {
      if (!this.selectModel.get(id)) return null;
      const versions = this.selectVersions.all(id).map(toVersion);
      this.removeVersions.run(id);
      this.removeModel.run(id);
      return versions;
    });
  }

  async create(model: NewModel): Promise<Model> {
    try {
      return toModel(
        this.insertModel.get(
          model.workspaceId,
          model.name,
          nameKey(model.name),
          model.framework,
          model.task,
          model.description,
          model.createdAt,
          model.updatedAt,
        )!,
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.duplicateModelName(model.name);
      throw err;
    }
  }

  async get(id: number): Promise<Model | null> {
    const row = this.selectModel.get(id);
    return row ? toModel(row) : null;
  }

  async list(filter: ModelListFilter): Promise<Page<Model>> {
    if (filter.visibleWorkspaces !== 'all' && filter.visibleWorkspaces.length === 0) return { items: [], total: 0 };
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.visibleWorkspaces !== 'all') {
      conditions.push('workspace_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(filter.visibleWorkspaces));
    }
    if (filter.workspaceId !== undefined) {
      conditions.push('workspace_id = ?');
      params.push(filter.workspaceId);
    }
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    let statements = this.listStatements.get(where);
    if (!statements) {
      statements = {
        count: this.db.prepare<unknown[], number>(`SELECT count(*) FROM models ${where}`).pluck(),
        page: this.db.prepare<unknown[], ModelRow>(
          `SELECT ${MODEL_COLUMNS} FROM models ${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
        ),
      };
      this.listStatements.set(where, statements);
    }
    const { limit, offset } = pageWindow(filter.page, filter.pageSize);
    return this.db.transaction(() => ({
      total: statements.count.get(...params) ?? 0,
      items: statements.page.all(...params, limit, offset).map(toModel),
    }))();
  }

  async addVersion(v: ModelVersion): Promise<ModelVersion> {
    try {
      return toVersion(
        this.insertVersion.get(
          v.modelId,
          v.version,
          v.format,
          v.artifactPath,
          v.source,
          v.sizeBytes,
          v.sha256,
          JSON.stringify(v.inputs),
          JSON.stringify(v.outputs),
          JSON.stringify(v.labels),
          v.preprocessing === null ? null : JSON.stringify(v.preprocessing),
          v.batching ? JSON.stringify(v.batching) : null,
          v.createdAt,
        )!,
      );
    } catch (err) {
      if (isUniqueViolation(err) || isPrimaryKeyViolation(err)) throw errors.duplicateModelVersion(v.version);
      if (isForeignKeyViolation(err)) throw errors.modelNotFound(v.modelId);
      throw err;
    }
  }

  async getVersion(modelId: number, version: string): Promise<ModelVersion | null> {
    const row = this.selectVersion.get(modelId, version);
    return row ? toVersion(row) : null;
  }

  async listVersions(modelId: number): Promise<ModelVersion[]> {
    return this.selectVersions.all(modelId).map(toVersion);
  }

  async delete(id: number): Promise<ModelVersion[] | null> {
    return this.deleteTx.immediate(id);
  }

  async deleteVersion(modelId: number, version: string): Promise<ModelVersion | null> {
    const row = this.removeVersion.get(modelId, version);
    return row ? toVersion(row) : null;
  }

  async setVersionBatching(modelId: number, version: string, batching: BatchingConfig | null): Promise<ModelVersion | null> {
    const row = this.updateBatching.get(batching ? JSON.stringify(batching) : null, modelId, version);
    return row ? toVersion(row) : null;
  }
}
