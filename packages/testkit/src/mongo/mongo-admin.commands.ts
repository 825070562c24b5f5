import { checkFields, collectionName, type CommandHandler } from './mongo-command.helpers.js';
import { MongoCode, MongoCommandError } from './mongo-errors.js';
import { parseIndexSpec } from './mongo-index.js';
import { formatDocument, isPlainDocument } from './mongo-values.js';
import { cursorIdOf, MAX_MESSAGE_BYTES } from './mongo-wire.codec.js';

/** The server the double claims to be: MongoDB 7.0's wire version (21), a standalone without auth. */
export const DOUBLE_VERSION = '7.0.0';
const MAX_WIRE_VERSION = 21;
const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

/**
 * hello / legacy isMaster: a writable standalone. `logicalSessionTimeoutMinutes` makes the driver attach implicit
 * sessions (`lsid`) as it does with a real mongod; no `topologyVersion`, so the driver polls instead of streaming.
 */
export const hello: CommandHandler = (ctx, body) => {
  checkFields(body, ['helloOk', 'client', 'compression', 'loadBalanced', 'saslSupportedMechs', 'speculativeAuthenticate', 'topologyVersion', 'maxAwaitTimeMS', 'backpressure']);
  if (body.loadBalanced) throw new MongoCommandError(MongoCode.BadValue, 'The test double is not behind a load balancer');
  const name = Object.keys(body)[0];
  const writable = name === 'hello' ? { isWritablePrimary: true } : { ismaster: true };
  return {
    ...(body.helloOk ? { helloOk: true } : {}),
    ...writable,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: ctx.state.now(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
};

export const buildInfo: CommandHandler = (_ctx, body) => {
  checkFields(body, []);
  return {
    version: DOUBLE_VERSION,
    gitVersion: 'remotegpu-testkit-mongo-double',
    versionArray: DOUBLE_VERSION.split('.').map(Number).concat(0),
    modules: [],
    javascriptEngine: 'none',
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['inMemory'],
    ok: 1,
  };
};

export const ping: CommandHandler = (_ctx, body) => {
  checkFields(body, []);
  return { ok: 1 };
};

/** The driver ends its implicit sessions on close; the double keeps no session state. */
export const endSessions: CommandHandler = (_ctx, body) => {
  checkFields(body, []);
  return { ok: 1 };
};

export const createIndexes: CommandHandler = (ctx, body) => {
  checkFields(body, ['indexes', 'commitQuorum']);
  const name = collectionName(body);
  if (!Array.isArray(body.indexes) || body.indexes.length === 0) {
    throw new MongoCommandError(MongoCode.BadValue, 'Must specify at least one index to create');
  }
  const specs = body.indexes.map(parseIndexSpec);
  const existed = ctx.state.collection(ctx.db, name) !== undefined;
  const collection = ctx.state.ensureCollection(ctx.db, name);
  const before = collection.indexes.size;
  let created = 0;
  for (const spec of specs) if (collection.createIndex(spec)) created += 1;
  return {
    numIndexesBefore: before,
    numIndexesAfter: collection.indexes.size,
    ...(created === 0 ? { note: 'all indexes already exist' } : {}),
    createdCollectionAutomatically: !existed,
    ok: 1,
  };
};

export const listIndexes: CommandHandler = (ctx, body) => {
  checkFields(body, ['cursor']);
  const name = collectionName(body);
  const collection = ctx.state.collection(ctx.db, name);
  if (!collection) throw new MongoCommandError(MongoCode.NamespaceNotFound, `ns does not exist: ${ctx.db}.${name}`);
  const firstBatch = [...collection.indexes.values()].map((index) => ({ ...index.spec }));
  return { cursor: { id: cursorIdOf(0n), ns: `${ctx.db}.$cmd.listIndexes.${name}`, firstBatch }, ok: 1 };
};

export const dropIndexes: CommandHandler = (ctx, body) => {
  checkFields(body, ['index']);
  const name = collectionName(body);
  const collection = ctx.state.collection(ctx.db, name);
  if (!collection) throw new MongoCommandError(MongoCode.NamespaceNotFound, `ns not found ${ctx.db}.${name}`);
  const was = collection.indexes.size;
  const wanted = body.index;
  const names: string[] =
    wanted === '*'
      ? [...collection.indexes.keys()].filter((n) => n !== '_id_')
      : Array.isArray(wanted)
        ? wanted.map(String)
        : isPlainDocument(wanted)
          ? [...collection.indexes.values()].filter((i) => formatDocument(i.spec.key) === formatDocument(wanted)).map((i) => i.spec.name)
          : [String(wanted)];
  if (names.includes('_id_')) throw new MongoCommandError(MongoCode.InvalidOptions, 'cannot drop _id index');
  for (const n of names) {
    if (!collection.indexes.has(n)) throw new MongoCommandError(MongoCode.IndexNotFound, `index not found with name [${n}]`);
  }
  for (const n of names) collection.indexes.delete(n);
  return { nIndexesWas: was, ok: 1 };
};

export const drop: CommandHandler = (ctx, body) => {
  checkFields(body, []);
  const name = collectionName(body);
  const collections = ctx.state.databases.get(ctx.db);
  const collection = collections?.get(name);
  collections?.delete(name);
  return { ...(collection ? { nIndexesWas: collection.indexes.size } : {}), ns: `${ctx.db}.${name}`, ok: 1 };
};

export const dropDatabase: CommandHandler = (ctx, body) => {
  checkFields(body, []);
  ctx.state.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};
