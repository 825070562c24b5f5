import { errors, isAppError, ErrorCode, type InferenceService, type ServiceEvent } from '@remotegpu/core';
import type { IdempotencyClaim, NewService, Page, ServiceListFilter, ServicePatch, ServiceRepository } from '../store.port.js';
import { nameKey, pageWindow } from '../store.keys.js';
import { duplicateKeyFields, guarded } from './mongo.errors.js';
import { workspaceCondition } from './mongo.scope.js';
import { IDEMPOTENCY_TTL_SECONDS, type MongoModels, type ServiceDoc } from './mongo.schemas.js';
import { newServiceDoc, patchUpdate, toEvent, toService, WITHOUT_EVENTS } from './service.mongo-mapping.js';

type CreateResult = { service: InferenceService; replayed: boolean };
type EventInput = Omit<ServiceEvent, 'serviceId'>;

/** The service id a create wanted is taken already: for a claimed key, the racing first attempt won. */
class ServiceIdTaken extends Error {}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class MongoServiceRepository implements ServiceRepository {
  constructor(
    private readonly m: MongoModels,
    private readonly now: () => Date,
    /** How many history lines a service keeps (the oldest go first). */
    private readonly historyLimit: number,
  ) {}

  create(service: NewService, claim?: IdempotencyClaim): Promise<CreateResult> {
    return guarded(async () => (claim ? this.createOnce(service, claim) : { service: await this.insert(service), replayed: false }));
  }

  get(id: string): Promise<InferenceService | null> {
    return guarded(async () => {
      const doc = await this.m.services.findOne({ _id: id, live: true }, WITHOUT_EVENTS).lean<ServiceDoc>();
      return doc ? toService(doc) : null;
    });
  }

  getIncludingDeleted(id: string): Promise<InferenceService | null> {
    return guarded(async () => {
      const doc = await this.m.services.findById(id, WITHOUT_EVENTS).lean<ServiceDoc>();
      return doc ? toService(doc) : null;
    });
  }

  list(filter: ServiceListFilter): Promise<Page<InferenceService>> {
    return guarded(async () => {
      const scope = workspaceCondition(filter);
      if (scope === null) return { items: [], total: 0 };
      const query: Record<string, unknown> = { live: true, ...scope };
      if (filter.status !== undefined) query.status = filter.status;
      // A literal substring of the lower-cased name: escaped, so `%`, `_` or `.` match themselves, in linear time.
      if (filter.nameContains) query.nameKey = { $regex: new RegExp(escapeRegExp(nameKey(filter.nameContains))) };
      const { limit, offset } = pageWindow(filter.page, filter.pageSize);
      // Two reads without a snapshot between them: under concurrent writes the total may be off by those writes.
      const [total, docs] = await Promise.all([
        this.m.services.countDocuments(query),
        limit === 0
          ? Promise.resolve([])
          : this.m.services.find(query, WITHOUT_EVENTS).sort({ createdAt: -1, _id: -1 }).skip(offset).limit(limit).lean<ServiceDoc[]>(),
      ]);
      return { items: docs.map(toService), total };
    });
  }

  update(id: string, expectedVersion: number, patch: ServicePatch, event?: EventInput): Promise<InferenceService> {
    return guarded(async () => {
      // A deleted record is hidden from every write except one that itself concerns deletion (the finalizer).
      const filter = { _id: id, version: expectedVersion, ...(patch.deletedAt === undefined ? { live: true } : {}) };
      const updatedAt = new Date(patch.updatedAt ?? this.now().toISOString());
      let doc: ServiceDoc | null;
      try {
        doc = await this.m.services
          .findOneAndUpdate(filter, patchUpdate(patch, updatedAt, event, this.historyLimit), { returnDocument: 'after', projection: WITHOUT_EVENTS })
          .lean<ServiceDoc>();
      } catch (err) {
        if (duplicateKeyFields(err)?.includes('nameKey')) throw errors.duplicateServiceName(patch.name ?? id);
        throw err;
      }
      if (doc) return toService(doc);
      const state = await this.m.services.findById(id, { live: 1 }).lean<{ live?: boolean }>();
      if (!state || (!state.live && patch.deletedAt === undefined)) throw errors.serviceNotFound(id);
      throw errors.concurrentModification(id);
    });
  }

  listForReconcile(): Promise<InferenceService[]> {
    return guarded(async () => {
      const docs = await this.m.services.find({}, WITHOUT_EVENTS).sort({ createdAt: 1, _id: 1 }).lean<ServiceDoc[]>();
      return docs.map(toService);
    });
  }

  listUsingModel(modelId: number, version?: string, limit = 20): Promise<InferenceService[]> {
    return guarded(async () => {
      const query = version === undefined ? { modelId, live: true } : { modelId, modelVersion: version, live: true };
      const docs = await this.m.services.find(query, WITHOUT_EVENTS).sort({ createdAt: 1, _id: 1 }).limit(limit).lean<ServiceDoc[]>();
      return docs.map(toService);
    });
  }

  purge(id: string): Promise<void> {
    // Only a deleted record may go, its history with it: a stray purge of a live service is a no-op.
    return guarded(async () => {
      await this.m.services.deleteOne({ _id: id, live: { $exists: false } });
    });
  }

  listEvents(serviceId: string, limit?: number): Promise<ServiceEvent[]> {
    return guarded(async () => {
      if (limit !== undefined && limit <= 0) return [];
      const projection = limit === undefined ? { events: 1 } : { events: { $slice: -limit } };
      const doc = await this.m.services.findById(serviceId, projection).lean<Pick<ServiceDoc, 'events'>>();
      return (doc?.events ?? []).map((e) => toEvent(serviceId, e));
    });
  }

  private async insert(service: NewService): Promise<InferenceService> {
    const doc = newServiceDoc(service);
    try {
      await this.m.services.create(doc);
    } catch (err) {
      const fields = duplicateKeyFields(err);
      if (fields?.includes('nameKey')) throw errors.duplicateServiceName(service.name);
      if (fields?.includes('_id')) throw new ServiceIdTaken(service.id);
      throw err;
    }
    const { events: _history, ...stored } = doc;
    return toService(stored);
  }

  /**
   * Create with an Idempotency-Key, without a transaction: the key is claimed first, naming the service id it
   * creates; then the service is written. A replay finds the key and returns that service. A key whose service is
   * missing is an interrupted create (the process or the connection died between the two writes, or the first
   * request is still in flight): the retry writes the service under the id the key names, so however the two race,
   * one service results. A create refused for its content (a taken name) gives the key back.
   */
  private async createOnce(service: NewService, claim: IdempotencyClaim): Promise<CreateResult> {
    const now = this.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await this.claim(claim, service.id, now)) return this.createClaimed(service, claim);
      const key = await this.m.idempotencyKeys.findOne({ scope: claim.scope, key: claim.key }).lean();
      if (!key) continue; // expired and swept since: claim it again
      if (key.createdAt.getTime() <= now.getTime() - IDEMPOTENCY_TTL_SECONDS * 1000) {
        // Past its 24 hours but not yet swept (the TTL monitor runs about once a minute): as good as absent.
        await this.m.idempotencyKeys.deleteOne({ _id: key._id, createdAt: key.createdAt });
        continue;
      }
      if (key.requestHash !== claim.requestHash) throw errors.idempotencyConflict();
      const first = await this.getIncludingDeleted(key.serviceId);
      if (first) {
        if (!key.done) await this.markDone(claim, key.serviceId);
        return { service: first, replayed: true };
      }
      // Purged since: there is nothing left to replay, and creating anew would resurrect what the user deleted.
      if (key.done) throw errors.serviceNotFound(key.serviceId);
      return this.createClaimed({ ...service, id: key.serviceId }, claim);
    }
    throw new Error(`idempotency key ${claim.scope}/${claim.key} could not be claimed: it kept expiring`);
  }

  /** True when this call inserted the key; false when it exists already. */
  private async claim(claim: IdempotencyClaim, serviceId: string, now: Date): Promise<boolean> {
    try {
      await this.m.idempotencyKeys.create({ scope: claim.scope, key: claim.key, requestHash: claim.requestHash, serviceId, done: false, createdAt: now });
      return true;
    } catch (err) {
      if (duplicateKeyFields(err) !== undefined) return false;
      throw err;
    }
  }

  private async createClaimed(service: NewService, claim: IdempotencyClaim): Promise<CreateResult> {
    try {
      const created = await this.insert(service);
      await this.markDone(claim, service.id);
      return { service: created, replayed: false };
    } catch (err) {
      if (err instanceof ServiceIdTaken) {
        const first = await this.getIncludingDeleted(service.id);
        if (first) return { service: first, replayed: true };
      }
      if (isAppError(err) && err.code !== ErrorCode.Unavailable) {
        await this.m.idempotencyKeys.deleteOne({ scope: claim.scope, key: claim.key, serviceId: service.id, done: false });
      }
      throw err;
    }
  }

  /** Best effort: a key left undone with its service present still replays that service. */
  private async markDone(claim: IdempotencyClaim, serviceId: string): Promise<void> {
    await this.m.idempotencyKeys.updateOne({ scope: claim.scope, key: claim.key, serviceId }, { $set: { done: true } }).catch(() => undefined);
  }
}
