import { randomBytes } from 'node:crypto';
import type { Document } from 'bson';
import { Collection } from './mongo-collection.js';
import { MongoCode, MongoCommandError } from './mongo-errors.js';
import { cursorIdOf } from './mongo-wire.codec.js';

/** mongod's default first batch: 101 documents. */
const DEFAULT_FIRST_BATCH = 101;
/** Cursors idle this long are dropped, as mongod's cursorTimeoutMillis (10 minutes) does. */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  rest: Document[];
  lastUsed: number;
}

/** Everything the double holds: databases of collections, and open cursors. Commands run one at a time. */
export class MongoState {
  readonly databases = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<bigint, OpenCursor>();

  constructor(readonly now: () => Date) {}

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** The collection, created on first use as mongod creates it on an insert, an upsert or createIndexes. */
  ensureCollection(db: string, name: string): Collection {
    checkCollectionName(name);
    let collections = this.databases.get(db);
    if (!collections) this.databases.set(db, (collections = new Map()));
    let collection = collections.get(name);
    if (!collection) collections.set(name, (collection = new Collection(`${db}.${name}`)));
    return collection;
  }

  dropDatabase(db: string): void {
    this.databases.delete(db);
  }

  /** Forgets every database and cursor (a restart without its data files). */
  clear(): void {
    this.databases.clear();
    this.cursors.clear();
  }

  /** A restart loses open cursors even when the data survives. */
  forgetCursors(): void {
    this.cursors.clear();
  }

  /** Answers a find/aggregate: the first batch, and a cursor for the rest when anything is left. */
  openCursor(ns: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean): Document {
    const size = batchSize === undefined || batchSize === 0 ? DEFAULT_FIRST_BATCH : batchSize;
    const firstBatch = docs.slice(0, size);
    const rest = docs.slice(size);
    let id = 0n;
    if (rest.length > 0 && !singleBatch) {
      this.expireIdleCursors();
      id = BigInt.asIntN(64, randomBytes(8).readBigUInt64LE()) & 0x7fffffffffffffffn || 1n;
      this.cursors.set(id, { ns, rest, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch, id: cursorIdOf(id), ns }, ok: 1 };
  }

  getMore(id: bigint, collection: string, db: string, batchSize: number | undefined): Document {
    const cursor = this.cursors.get(id);
    if (!cursor) throw new MongoCommandError(MongoCode.CursorNotFound, `cursor id ${id} not found`);
    if (cursor.ns !== `${db}.${collection}` && !cursor.ns.startsWith(`${db}.$cmd.`)) {
      throw new MongoCommandError(MongoCode.Unauthorized, `Requested getMore on namespace '${db}.${collection}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    const size = batchSize && batchSize > 0 ? batchSize : cursor.rest.length;
    const nextBatch = cursor.rest.splice(0, size);
    cursor.lastUsed = Date.now();
    if (cursor.rest.length === 0) this.cursors.delete(id);
    return { cursor: { nextBatch, id: cursorIdOf(this.cursors.has(id) ? id : 0n), ns: cursor.ns }, ok: 1 };
  }

  killCursors(ids: bigint[]): Document {
    const killed: bigint[] = [];
    const notFound: bigint[] = [];
    for (const id of ids) (this.cursors.delete(id) ? killed : notFound).push(id);
    return {
      cursorsKilled: killed.map(cursorIdOf),
      cursorsNotFound: notFound.map(cursorIdOf),
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  }

  /** One pass of the TTL monitor over every collection; returns how many documents it removed. */
  sweepTtl(): number {
    const now = this.now();
    let removed = 0;
    for (const collections of this.databases.values()) {
      for (const collection of collections.values()) {
        for (const doc of collection.expired(now)) {
          collection.remove(doc);
          removed += 1;
        }
      }
    }
    return removed;
  }

  private expireIdleCursors(): void {
    const cutoff = Date.now() - CURSOR_TIMEOUT_MS;
    for (const [id, cursor] of this.cursors) if (cursor.lastUsed < cutoff) this.cursors.delete(id);
  }
}

function checkCollectionName(name: string): void {
  if (name === '' || name.includes('\0') || name.startsWith('system.') || name.includes('$')) {
    throw new MongoCommandError(MongoCode.InvalidNamespace, `Invalid collection name: ${name}`);
  }
}
