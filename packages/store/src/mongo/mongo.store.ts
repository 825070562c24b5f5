import mongoose, { type Connection } from 'mongoose';
import type { Store } from '../store.port.js';
import { MongoModelRepository } from './model.mongo-repository.js';
import { guarded } from './mongo.errors.js';
import { modelsOn, SCHEMA_VERSION, type MongoModels } from './mongo.schemas.js';
import { MongoServiceRepository } from './service.mongo-repository.js';

export interface MongoStoreOptions {
  /** `mongodb://…` or `mongodb+srv://…`; the database is the URL's path (`rgpu` when it names none). */
  url: string;
  /** How long opening keeps trying to reach the server before giving up (default 30 s). */
  connectTimeoutMs?: number;
  /** The clock for idempotency-key expiry and default `updatedAt`; tests pass a fake one. */
  now?: () => Date;
  /** History lines kept per service (default 256; the oldest are dropped first). */
  eventHistoryLimit?: number;
}

/**
 * How long an operation waits for a reachable server before it fails with 503. Small, so a request during an
 * outage is answered within seconds rather than after the driver's 30 s default; a URL that sets
 * `serverSelectionTimeoutMS` itself wins.
 */
const SERVER_SELECTION_TIMEOUT_MS = 2_000;
const PING_TIMEOUT_MS = 1_500;
const DEFAULT_DATABASE = 'rgpu';

/** The MongoDB adapter of the Store port, on mongoose. Safe to share between any number of processes. */
export class MongoStore implements Store {
  readonly services: MongoServiceRepository;
  readonly models: MongoModelRepository;

  constructor(
    /** The mongoose connection, for diagnostics and tests; writes belong to the repositories. */
    readonly connection: Connection,
    m: MongoModels,
    now: () => Date,
    historyLimit: number,
  ) {
    this.services = new MongoServiceRepository(m, now, historyLimit);
    this.models = new MongoModelRepository(m);
  }

  /** True when the server answers a ping within 1.5 s (so `/readyz` says 503 while it is away). */
  async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    const answered = (async () => {
      const db = this.connection.db;
      if (!db) return false;
      const reply = await db.admin().command({ ping: 1 });
      return reply.ok === 1;
    })().catch(() => false);
    try {
      return await Promise.race([answered, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/**
 * Connects (retrying until `connectTimeoutMs`, so a process may start before its database), creates the
 * collections' indexes (idempotent: an index that exists as specified is left alone) and checks the schema
 * version, as the SQLite adapter runs its migrations.
 */
export async function openMongoStore(options: MongoStoreOptions): Promise<MongoStore> {
  const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
  const connection = await connectWithRetry(options.url, deadline);
  try {
    const m = modelsOn(connection);
    await guarded(async () => {
      for (const model of Object.values(m)) await model.createIndexes();
      await checkSchemaVersion(m);
    });
    return new MongoStore(connection, m, options.now ?? (() => new Date()), options.eventHistoryLimit ?? 256);
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}

async function connectWithRetry(url: string, deadline: number): Promise<Connection> {
  const params = new URLSearchParams(url.split('?')[1] ?? '');
  const databaseInUrl = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url)?.[1];
  for (;;) {
    const connection = mongoose.createConnection(url, {
      // Commands fail at once (after server selection) instead of queueing while the connection is down.
      bufferCommands: false,
      autoIndex: false,
      autoCreate: false,
      ...(params.has('serverSelectionTimeoutMS') ? {} : { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS }),
      ...(databaseInUrl ? {} : { dbName: DEFAULT_DATABASE }),
    });
    try {
      return await connection.asPromise();
    } catch (err) {
      await connection.close().catch(() => undefined);
      if (Date.now() + 1_000 > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function checkSchemaVersion(m: MongoModels): Promise<void> {
  const meta = await m.meta
    .findOneAndUpdate({ _id: 'schema' }, { $setOnInsert: { version: SCHEMA_VERSION } }, { upsert: true, returnDocument: 'after' })
    .lean<{ version: number }>();
  if (meta && meta.version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${meta.version} is newer than this program knows (${SCHEMA_VERSION})`);
  }
}
