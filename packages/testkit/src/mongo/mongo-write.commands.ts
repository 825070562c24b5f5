import { serialize, type Document } from 'bson';
import { checkFields, collectionName, optionalBoolean, type CommandContext, type CommandHandler } from './mongo-command.helpers.js';
import { MongoCode, MongoCommandError, notImplemented } from './mongo-errors.js';
import { compileFilter, matching, parseUpdate, project, sortDocuments, updatedDocument, upsertedDocument } from './mongo-query.js';
import { cloneDocument, isPlainDocument } from './mongo-values.js';

/**
 * Write commands. Each statement changes at most the documents it names, one at a time, and a statement that
 * fails changes nothing; an ordered batch stops at its first failure and reports it in `writeErrors`
 * (`{ index, code, errmsg, keyPattern, keyValue }` for a duplicate key), as mongod does.
 */

function statements(body: Document, field: string): Document[] {
  const list = body[field];
  if (!Array.isArray(list)) throw new MongoCommandError(MongoCode.FailedToParse, `BSON field '${Object.keys(body)[0]}.${field}' is missing but a required field`);
  for (const s of list) if (!isPlainDocument(s)) throw new MongoCommandError(MongoCode.TypeMismatch, `BSON field '${field}' must hold documents`);
  return list as Document[];
}

/** Runs the statements in order, collecting write errors; returns the per-statement results of those that ran. */
function runBatch<T>(body: Document, list: Document[], run: (statement: Document) => T): { results: T[]; writeErrors: Document[] } {
  const ordered = body.ordered === undefined ? true : Boolean(body.ordered);
  const results: T[] = [];
  const writeErrors: Document[] = [];
  for (const [index, statement] of list.entries()) {
    try {
      results.push(run(statement));
    } catch (err) {
      if (!(err instanceof MongoCommandError)) throw err;
      writeErrors.push(err.toWriteError(index));
      if (ordered) break;
    }
  }
  return { results, writeErrors };
}

function withErrors(reply: Document, writeErrors: Document[]): Document {
  return writeErrors.length ? { ...reply, writeErrors, ok: 1 } : { ...reply, ok: 1 };
}

export const insert: CommandHandler = (ctx, body) => {
  checkFields(body, ['documents', 'ordered', 'bypassDocumentValidation']);
  const name = collectionName(body);
  const docs = statements(body, 'documents');
  const collection = ctx.state.ensureCollection(ctx.db, name);
  const { results, writeErrors } = runBatch(body, docs, (doc) => collection.insert(cloneDocument(doc)));
  return withErrors({ n: results.length }, writeErrors);
};

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
}

function sameBytes(a: Document, b: Document): boolean {
  return Buffer.from(serialize(a)).equals(Buffer.from(serialize(b)));
}

function runUpdate(ctx: CommandContext, name: string, statement: Document): UpdateOutcome {
  for (const field of Object.keys(statement)) {
    if (['arrayFilters', 'collation', 'hint', 'sort'].includes(field)) throw notImplemented(`update.updates.${field}`);
    if (!['q', 'u', 'upsert', 'multi', 'c'].includes(field)) throw new MongoCommandError(MongoCode.UnknownField, `BSON field 'update.updates.${field}' is an unknown field.`);
  }
  const spec = parseUpdate(statement.u);
  const filter = compileFilter(statement.q);
  const multi = Boolean(statement.multi);
  if (multi && spec.kind === 'replacement') throw new MongoCommandError(MongoCode.FailedToParse, 'multi update is not supported for replacement-style update');
  const collection = ctx.state.collection(ctx.db, name);
  const found = collection ? matching(collection.docs.values(), filter) : [];
  const targets = multi ? found : found.slice(0, 1);
  if (targets.length === 0) {
    if (!statement.upsert) return { matched: 0, modified: 0 };
    const doc = upsertedDocument(statement.q, spec);
    ctx.state.ensureCollection(ctx.db, name).insert(doc);
    return { matched: 0, modified: 0, upsertedId: doc._id };
  }
  let modified = 0;
  for (const current of targets) {
    const next = updatedDocument(current, spec);
    if (sameBytes(current, next)) continue;
    collection!.replace(current, next);
    modified += 1;
  }
  return { matched: targets.length, modified };
}

export const update: CommandHandler = (ctx, body) => {
  checkFields(body, ['updates', 'ordered', 'bypassDocumentValidation'], ['let']);
  const name = collectionName(body);
  const { results, writeErrors } = runBatch(body, statements(body, 'updates'), (s) => runUpdate(ctx, name, s));
  const upserted = results.flatMap((r, index) => (r.upsertedId === undefined ? [] : [{ index, _id: r.upsertedId }]));
  const reply: Document = {
    n: results.reduce((sum, r) => sum + r.matched, 0) + upserted.length,
    nModified: results.reduce((sum, r) => sum + r.modified, 0),
  };
  if (upserted.length) reply.upserted = upserted;
  return withErrors(reply, writeErrors);
};

export const remove: CommandHandler = (ctx, body) => {
  checkFields(body, ['deletes', 'ordered'], ['let']);
  const name = collectionName(body);
  const { results, writeErrors } = runBatch(body, statements(body, 'deletes'), (statement) => {
    for (const field of Object.keys(statement)) {
      if (['collation', 'hint'].includes(field)) throw notImplemented(`delete.deletes.${field}`);
      if (!['q', 'limit'].includes(field)) throw new MongoCommandError(MongoCode.UnknownField, `BSON field 'delete.deletes.${field}' is an unknown field.`);
    }
    if (statement.limit !== 0 && statement.limit !== 1) throw new MongoCommandError(MongoCode.FailedToParse, 'The limit field in delete objects must be 0 or 1.');
    const collection = ctx.state.collection(ctx.db, name);
    if (!collection) return 0;
    const found = matching(collection.docs.values(), compileFilter(statement.q));
    const victims = statement.limit === 1 ? found.slice(0, 1) : found;
    for (const doc of victims) collection.remove(doc);
    return victims.length;
  });
  return withErrors({ n: results.reduce((a, b) => a + b, 0) }, writeErrors);
};

/** findAndModify: one document, chosen by `sort`, updated, upserted or removed; the reply carries it before or after. */
export const findAndModify: CommandHandler = (ctx, body) => {
  checkFields(body, ['query', 'sort', 'remove', 'update', 'new', 'fields', 'upsert', 'bypassDocumentValidation'], ['arrayFilters', 'collation', 'hint', 'let']);
  const name = collectionName(body);
  const removing = optionalBoolean(body, 'remove');
  const returnNew = optionalBoolean(body, 'new');
  if (removing && body.update !== undefined) throw new MongoCommandError(MongoCode.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!removing && body.update === undefined) throw new MongoCommandError(MongoCode.FailedToParse, 'Either an update or remove=true must be specified');
  if (removing && (returnNew || body.upsert)) throw new MongoCommandError(MongoCode.FailedToParse, 'Cannot specify both new=true and remove=true; remove always returns the deleted document');
  const filter = compileFilter(body.query);
  const collection = ctx.state.collection(ctx.db, name);
  const target = collection ? sortDocuments(matching(collection.docs.values(), filter), body.sort)[0] : undefined;
  const shown = (doc: Document | undefined) => (doc ? project([doc], body.fields)[0] : null);

  if (removing) {
    if (target) collection!.remove(target);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: shown(target), ok: 1 };
  }
  const spec = parseUpdate(body.update);
  if (!target) {
    if (!body.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = upsertedDocument(body.query, spec);
    ctx.state.ensureCollection(ctx.db, name).insert(doc);
    return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: returnNew ? shown(doc) : null, ok: 1 };
  }
  const next = updatedDocument(target, spec);
  if (!sameBytes(target, next)) collection!.replace(target, next);
  return { lastErrorObject: { n: 1, updatedExisting: true }, value: shown(returnNew ? next : target), ok: 1 };
};
