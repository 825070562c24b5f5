import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import { checkFields, collectionName, cursorIdFrom, optionalBoolean, optionalNumber, type CommandHandler } from './mongo-command.helpers.js';
import { badValue, MongoCode, MongoCommandError, notImplemented } from './mongo-errors.js';
import { compileFilter, matching, project, sortDocuments } from './mongo-query.js';
import { cloneDocument, isPlainDocument } from './mongo-values.js';

/** Stages the double runs (through mingo): enough for the driver's countDocuments and plain reporting pipelines. */
const SUPPORTED_STAGES = new Set(['$match', '$group', '$sort', '$skip', '$limit', '$project', '$count']);
/** Stages mongod has and the double refuses by name; any other `$name` is mongod's "Unrecognized pipeline stage". */
const KNOWN_STAGES = new Set([
  '$addFields', '$set', '$unset', '$unwind', '$lookup', '$graphLookup', '$facet', '$bucket', '$bucketAuto', '$sortByCount',
  '$replaceRoot', '$replaceWith', '$sample', '$out', '$merge', '$geoNear', '$indexStats', '$collStats', '$redact',
  '$unionWith', '$densify', '$fill', '$setWindowFields', '$documents', '$changeStream', '$search', '$currentOp',
  '$listSessions', '$planCacheStats', '$listLocalSessions', '$vectorSearch',
]);

export const find: CommandHandler = (ctx, body) => {
  checkFields(
    body,
    ['filter', 'sort', 'projection', 'skip', 'limit', 'batchSize', 'singleBatch', 'allowDiskUse', 'noCursorTimeout', 'allowPartialResults'],
    ['hint', 'collation', 'let', 'tailable', 'awaitData', 'returnKey', 'showRecordId', 'min', 'max', 'oplogReplay', 'readOnce'],
  );
  const name = collectionName(body);
  const skip = optionalNumber(body, 'skip') ?? 0;
  const limit = optionalNumber(body, 'limit') ?? 0;
  if (skip < 0) throw badValue('skip value must be non-negative');
  if (limit < 0) throw badValue('limit value must be non-negative');
  const filter = compileFilter(body.filter);
  const collection = ctx.state.collection(ctx.db, name);
  let docs = collection ? matching(collection.docs.values(), filter) : [];
  docs = sortDocuments(docs, body.sort).slice(skip, limit ? skip + limit : undefined);
  const batchSize = optionalNumber(body, 'batchSize');
  return ctx.state.openCursor(`${ctx.db}.${name}`, project(docs, body.projection), batchSize, optionalBoolean(body, 'singleBatch'));
};

export const getMore: CommandHandler = (ctx, body) => {
  checkFields(body, ['collection', 'batchSize']);
  if (typeof body.collection !== 'string') throw new MongoCommandError(MongoCode.TypeMismatch, "BSON field 'getMore.collection' is missing but a required field");
  return ctx.state.getMore(cursorIdFrom(body.getMore), body.collection, ctx.db, optionalNumber(body, 'batchSize'));
};

export const killCursors: CommandHandler = (ctx, body) => {
  checkFields(body, ['cursors']);
  if (!Array.isArray(body.cursors)) throw new MongoCommandError(MongoCode.TypeMismatch, "BSON field 'killCursors.cursors' must be an array");
  return ctx.state.killCursors(body.cursors.map(cursorIdFrom));
};

export const count: CommandHandler = (ctx, body) => {
  checkFields(body, ['query', 'limit', 'skip'], ['hint', 'collation']);
  const collection = ctx.state.collection(ctx.db, collectionName(body));
  const n = collection ? matching(collection.docs.values(), compileFilter(body.query)).length : 0;
  const skip = Math.max(0, optionalNumber(body, 'skip') ?? 0);
  const limit = Math.abs(optionalNumber(body, 'limit') ?? 0);
  const counted = Math.max(0, n - skip);
  return { n: limit ? Math.min(limit, counted) : counted, ok: 1 };
};

export const aggregate: CommandHandler = (ctx, body) => {
  checkFields(body, ['pipeline', 'cursor', 'allowDiskUse'], ['explain', 'collation', 'hint', 'let', 'bypassDocumentValidation']);
  const name = body.aggregate;
  if (name === 1) throw notImplemented('collection-less aggregate ({aggregate: 1})');
  if (typeof name !== 'string') throw new MongoCommandError(MongoCode.InvalidNamespace, 'aggregate needs a collection name');
  if (!Array.isArray(body.pipeline)) throw new MongoCommandError(MongoCode.TypeMismatch, "BSON field 'aggregate.pipeline' must be an array");
  if (!isPlainDocument(body.cursor)) throw new MongoCommandError(MongoCode.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  for (const stage of body.pipeline) {
    if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) {
      throw new MongoCommandError(MongoCode.FailedToParse, 'A pipeline stage specification object must contain exactly one field.');
    }
    const stageName = Object.keys(stage)[0];
    if (SUPPORTED_STAGES.has(stageName)) continue;
    if (KNOWN_STAGES.has(stageName)) throw notImplemented(`the aggregation stage ${stageName}`);
    throw new MongoCommandError(MongoCode.UnknownStage, `Unrecognized pipeline stage name: '${stageName}'`);
  }
  // The $match stages go through the same filter checks as find, so a refused operator is refused here too.
  for (const stage of body.pipeline as Document[]) if (stage.$match !== undefined) compileFilter(stage.$match);
  const collection = ctx.state.collection(ctx.db, name);
  const input = collection ? [...collection.docs.values()].map((d) => cloneDocument(d)) : [];
  let out: Document[];
  try {
    out = new Aggregator(body.pipeline as Document[], { scriptEnabled: false }).run(input) as Document[];
  } catch (err) {
    throw badValue((err as Error).message);
  }
  return ctx.state.openCursor(`${ctx.db}.${name}`, out, optionalNumber(body.cursor as Document, 'batchSize'), false);
};
