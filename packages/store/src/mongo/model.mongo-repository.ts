import { errors, type BatchingConfig, type Framework, type Model, type ModelTask, type ModelVersion } from '@remotegpu/core';
import type { ModelListFilter, ModelRepository, NewModel, Page } from '../store.port.js';
import { nameKey, pageWindow } from '../store.keys.js';
import { duplicateKeyFields, guarded } from './mongo.errors.js';
import { workspaceCondition } from './mongo.scope.js';
import type { ModelDoc, MongoModels } from './mongo.schemas.js';

function toModel(doc: ModelDoc): Model {
  return {
    id: doc._id,
    workspaceId: doc.workspaceId,
    name: doc.name,
    framework: doc.framework as Framework,
    task: doc.task as ModelTask,
    description: doc.description,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** A stored version: every field as written, `createdAt` back to ISO text, the document's own `_id` left out. */
function toVersion(doc: Record<string, unknown>): ModelVersion {
  const { _id: _ignored, createdAt, batching, ...fields } = doc;
  // Batching off is stored as no field (documents written before batching existed have none either).
  return { ...(fields as Omit<ModelVersion, 'createdAt'>), ...(batching ? { batching: batching as BatchingConfig } : {}), createdAt: (createdAt as Date).toISOString() };
}

export class MongoModelRepository implements ModelRepository {
  constructor(private readonly m: MongoModels) {}

  create(model: NewModel): Promise<Model> {
    return guarded(async () => {
      const id = await this.nextId();
      const doc: ModelDoc = {
        _id: id,
        workspaceId: model.workspaceId,
        name: model.name,
        nameKey: nameKey(model.name),
        framework: model.framework,
        task: model.task,
        description: model.description,
        createdAt: new Date(model.createdAt),
        updatedAt: new Date(model.updatedAt),
      };
      try {
        await this.m.models.create(doc);
      } catch (err) {
        // The id drawn is not given back: ids only ever increase, with a gap where a create failed.
        if (duplicateKeyFields(err)?.includes('nameKey')) throw errors.duplicateModelName(model.name);
        throw err;
      }
      return toModel(doc);
    });
  }

  get(id: number): Promise<Model | null> {
    return guarded(async () => {
      const doc = await this.m.models.findById(id).lean<ModelDoc>();
      return doc ? toModel(doc) : null;
    });
  }

  list(filter: ModelListFilter): Promise<Page<Model>> {
    return guarded(async () => {
      const scope = workspaceCondition(filter);
      if (scope === null) return { items: [], total: 0 };
      const query: Record<string, unknown> = { ...scope };
      const { limit, offset } = pageWindow(filter.page, filter.pageSize);
      const [total, docs] = await Promise.all([
        this.m.models.countDocuments(query),
        limit === 0 ? Promise.resolve([]) : this.m.models.find(query).sort({ createdAt: -1, _id: -1 }).skip(offset).limit(limit).lean<ModelDoc[]>(),
      ]);
      return { items: docs.map(toModel), total };
    });
  }

  addVersion(version: ModelVersion): Promise<ModelVersion> {
    return guarded(async () => {
      // A model deleted between this check and the write leaves an orphan version record no API can reach (the
      // model is 404); deleting a model removes every version found then, and a retried delete finds it gone.
      if (!(await this.m.models.exists({ _id: version.modelId }))) throw errors.modelNotFound(version.modelId);
      try {
        await this.m.modelVersions.create({ ...version, createdAt: new Date(version.createdAt) });
      } catch (err) {
        if (duplicateKeyFields(err)?.includes('version')) throw errors.duplicateModelVersion(version.version);
        throw err;
      }
      return { ...version };
    });
  }

  getVersion(modelId: number, version: string): Promise<ModelVersion | null> {
    return guarded(async () => {
      const doc = await this.m.modelVersions.findOne({ modelId, version }).lean<Record<string, unknown>>();
      return doc ? toVersion(doc) : null;
    });
  }

  listVersions(modelId: number): Promise<ModelVersion[]> {
    return guarded(async () => {
      const docs = await this.m.modelVersions.find({ modelId }).sort({ createdAt: 1, _id: 1 }).lean<Record<string, unknown>[]>();
      return docs.map(toVersion);
    });
  }

  delete(id: number): Promise<ModelVersion[] | null> {
    return guarded(async () => {
      const model = await this.m.models.findById(id).lean<ModelDoc>();
      if (!model) return null;
      const versions = await this.listVersions(id);
      // Versions first: a crash in between leaves the model with fewer versions, never versions without a model.
      await this.m.modelVersions.deleteMany({ modelId: id });
      await this.m.models.deleteOne({ _id: id });
      return versions;
    });
  }

  setVersionBatching(modelId: number, version: string, batching: BatchingConfig | null): Promise<ModelVersion | null> {
    return guarded(async () => {
      const update = batching ? { $set: { batching } } : { $unset: { batching: 1 } };
      const doc = await this.m.modelVersions.findOneAndUpdate({ modelId, version }, update, { new: true }).lean<Record<string, unknown>>();
      return doc ? toVersion(doc) : null;
    });
  }

  deleteVersion(modelId: number, version: string): Promise<ModelVersion | null> {
    return guarded(async () => {
      const doc = await this.m.modelVersions.findOneAndDelete({ modelId, version }).lean<Record<string, unknown>>();
      return doc ? toVersion(doc) : null;
    });
  }

  /**
   * The next model id from the `counters` document (an atomic $inc, created on first use). Two first-ever
   * upserts may race on a real server (one gets a duplicate `_id`); the loser simply increments again.
   */
  private async nextId(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const counter = await this.m.counters
          .findOneAndUpdate({ _id: 'models' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' })
          .lean<{ seq: number }>();
        return counter!.seq;
      } catch (err) {
        if (attempt < 2 && duplicateKeyFields(err) !== undefined) continue;
        throw err;
      }
    }
  }
}
