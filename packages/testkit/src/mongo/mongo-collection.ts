import { ObjectId, type Document } from 'bson';
import { MongoCode, MongoCommandError } from './mongo-errors.js';
import { Index, sameIndex, sameKey, type IndexSpec } from './mongo-index.js';
import { indexKeyString, valueAt } from './mongo-values.js';

/**
 * One collection: its documents in natural (insertion) order, keyed by their `_id`, and its indexes. Every write
 * first computes all the keys it would add, checks every unique index, and only then changes anything, so a
 * refused write leaves no trace — as a single-document write on mongod is atomic.
 */
export class Collection {
  readonly docs = new Map<string, Document>();
  readonly indexes = new Map<string, Index>();

  constructor(readonly ns: string) {
    this.indexes.set('_id_', new Index({ v: 2, key: { _id: 1 }, name: '_id_' }, ns));
  }

  /** Stores a new document (an `_id` is generated first when it has none) and returns it as stored. */
  insert(input: Document): Document {
    const doc: Document = input._id === undefined ? { _id: new ObjectId(), ...input } : input;
    checkId(doc._id);
    const idKey = indexKeyString(doc._id);
    const planned = this.plan(doc, undefined);
    this.docs.set(idKey, doc);
    this.apply(planned, idKey, undefined);
    return doc;
  }

  /** Replaces a stored document by `next` (same `_id`), keeping its place in natural order. */
  replace(current: Document, next: Document): void {
    const idKey = indexKeyString(current._id);
    if (indexKeyString(next._id) !== idKey) {
      throw new MongoCommandError(
        MongoCode.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    const planned = this.plan(next, idKey);
    const before = this.keysByIndex(current);
    this.docs.set(idKey, next);
    this.apply(planned, idKey, before);
  }

  remove(doc: Document): void {
    const idKey = indexKeyString(doc._id);
    for (const [name, keys] of this.keysByIndex(doc)) {
      const index = this.indexes.get(name)!;
      for (const k of keys) if (index.entries.get(k) === idKey) index.entries.delete(k);
    }
    this.docs.delete(idKey);
  }

  /** Creates an index over the documents already stored; false when an identical one exists. */
  createIndex(spec: IndexSpec): boolean {
    for (const existing of this.indexes.values()) {
      if (existing.spec.name === spec.name) {
        if (sameIndex(existing.spec, spec)) return false;
        if (!sameKey(existing.spec, spec)) {
          throw new MongoCommandError(
            MongoCode.IndexKeySpecsConflict,
            `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(existing.spec)}`,
          );
        }
        throw new MongoCommandError(MongoCode.IndexOptionsConflict, `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(existing.spec)}`);
      }
      if (sameKey(existing.spec, spec) && sameIndex(existing.spec, spec)) {
        throw new MongoCommandError(MongoCode.IndexOptionsConflict, `Index already exists with a different name: ${existing.spec.name}`);
      }
    }
    const index = new Index(spec, this.ns);
    if (index.unique) {
      for (const [idKey, doc] of this.docs) {
        for (const { keyString, keyValue } of index.keysOf(doc)) {
          if (index.entries.has(keyString)) throw index.duplicateKeyError(keyValue);
          index.entries.set(keyString, idKey);
        }
      }
    }
    this.indexes.set(spec.name, index);
    return true;
  }

  /** Documents whose TTL index date is older than its expireAfterSeconds, as mongod's TTL monitor removes them. */
  expired(now: Date): Document[] {
    const out: Document[] = [];
    for (const index of this.indexes.values()) {
      const ttl = index.spec.expireAfterSeconds;
      if (ttl === undefined) continue;
      const field = Object.keys(index.spec.key)[0];
      for (const doc of this.docs.values()) {
        if (index.keysOf(doc).length === 0) continue; // outside a partial TTL index's filter
        const value = valueAt(doc, field);
        const dates = (Array.isArray(value) ? value : [value]).filter((v): v is Date => v instanceof Date);
        if (dates.length === 0) continue; // a document without a date in the field never expires
        const earliest = Math.min(...dates.map((d) => d.getTime()));
        if (earliest + ttl * 1000 <= now.getTime()) out.push(doc);
      }
    }
    return [...new Set(out)];
  }

  private keysByIndex(doc: Document): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [name, index] of this.indexes) if (index.unique) out.set(name, index.keysOf(doc).map((k) => k.keyString));
    return out;
  }

  /** Every unique key `doc` would hold, refusing the write when another document holds one of them. */
  private plan(doc: Document, ownIdKey: string | undefined): Map<string, string[]> {
    const planned = new Map<string, string[]>();
    for (const [name, index] of this.indexes) {
      if (!index.unique) continue;
      const keys = index.keysOf(doc);
      for (const { keyString, keyValue } of keys) {
        const holder = index.entries.get(keyString);
        if (holder !== undefined && holder !== ownIdKey) throw index.duplicateKeyError(keyValue);
      }
      planned.set(name, keys.map((k) => k.keyString));
    }
    return planned;
  }

  private apply(planned: Map<string, string[]>, idKey: string, before: Map<string, string[]> | undefined): void {
    for (const [name, keys] of planned) {
      const index = this.indexes.get(name)!;
      for (const old of before?.get(name) ?? []) if (index.entries.get(old) === idKey) index.entries.delete(old);
      for (const k of keys) index.entries.set(k, idKey);
    }
  }
}

function checkId(id: unknown): void {
  if (Array.isArray(id)) throw new MongoCommandError(MongoCode.InvalidIdField, `The '_id' value cannot be of type array`);
  if (id instanceof RegExp) throw new MongoCommandError(MongoCode.InvalidIdField, `The '_id' value cannot be of type regex`);
}
