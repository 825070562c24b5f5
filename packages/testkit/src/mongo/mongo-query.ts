import { ObjectId, type Document } from 'bson';
import { Query } from 'mingo';
import { update as applyModifier } from 'mingo/updater';
import { badValue, MongoCode, MongoCommandError, notImplemented } from './mongo-errors.js';
import { cloneDocument, compareValues, isPlainDocument, sortKeyOf } from './mongo-values.js';

/** Query operators whose MongoDB meaning needs an index or a JavaScript engine the double does not have. */
const REFUSED_QUERY_OPERATORS = new Set(['$where', '$text', '$near', '$nearSphere', '$geoWithin', '$geoIntersects', '$function', '$accumulator']);

/** Update operators mingo applies; `$setOnInsert` is applied here (as `$set`, on an upsert's insert only). */
const UPDATE_OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$pull', '$pullAll', '$pop', '$addToSet', '$currentDate', '$bit', '$setOnInsert']);

const MINGO_OPTIONS = { scriptEnabled: false } as const;

function refuseOperators(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(refuseOperators);
  if (!isPlainDocument(value)) return;
  for (const [key, inner] of Object.entries(value)) {
    if (REFUSED_QUERY_OPERATORS.has(key)) throw notImplemented(`the query operator ${key}`);
    refuseOperators(inner);
  }
}

/** A compiled filter; an operator mingo does not know is mongod's "unknown operator" BadValue. */
export function compileFilter(filter: unknown): Query {
  if (filter === undefined || filter === null) return new Query({}, MINGO_OPTIONS);
  if (!isPlainDocument(filter)) throw new MongoCommandError(MongoCode.TypeMismatch, 'the filter must be an object');
  refuseOperators(filter);
  try {
    return new Query(filter, MINGO_OPTIONS);
  } catch (err) {
    throw badValue((err as Error).message);
  }
}

export function matching(docs: Iterable<Document>, filter: Query): Document[] {
  const out: Document[] = [];
  for (const doc of docs) if (filter.test(doc)) out.push(doc);
  return out;
}

/** Sorts in place by a sort spec (`{ a: 1, b: -1 }`, `{ $natural: -1 }`); ties keep natural order. */
export function sortDocuments(docs: Document[], sort: unknown): Document[] {
  if (sort === undefined || sort === null) return docs;
  if (!isPlainDocument(sort)) throw new MongoCommandError(MongoCode.TypeMismatch, 'the sort must be an object');
  const keys = Object.entries(sort).map(([path, direction]) => {
    if (isPlainDocument(direction)) throw notImplemented(`sorting by ${JSON.stringify(direction)}`);
    if (direction !== 1 && direction !== -1) throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    return { path, direction: direction as 1 | -1 };
  });
  if (keys.length === 1 && keys[0].path === '$natural') return keys[0].direction === 1 ? docs : docs.reverse();
  const order = new Map(docs.map((d, i) => [d, i]));
  return docs.sort((a, b) => {
    for (const { path, direction } of keys) {
      const c = compareValues(sortKeyOf(a, path, direction), sortKeyOf(b, path, direction));
      if (c) return c * direction;
    }
    return order.get(a)! - order.get(b)!;
  });
}

/** Applies a find projection (inclusion, exclusion, `$slice`, `$elemMatch`) to copies of the documents. */
export function project(docs: Document[], projection: unknown): Document[] {
  const copies = docs.map((d) => cloneDocument(d));
  if (projection === undefined || projection === null || (isPlainDocument(projection) && Object.keys(projection).length === 0)) return copies;
  if (!isPlainDocument(projection)) throw new MongoCommandError(MongoCode.TypeMismatch, 'the projection must be an object');
  try {
    return new Query({}, MINGO_OPTIONS).find<Document>(copies, projection).all();
  } catch (err) {
    throw badValue((err as Error).message);
  }
}

export type UpdateSpec = { kind: 'replacement'; doc: Document } | { kind: 'operators'; modifier: Document; onInsert: Document | undefined };

/** Checks an update document as mongod parses it: all operators, or a replacement without any. */
export function parseUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) throw notImplemented('pipeline-style updates');
  if (!isPlainDocument(u)) throw new MongoCommandError(MongoCode.FailedToParse, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length === 0) return { kind: 'replacement', doc: u };
  for (const key of keys) {
    if (!UPDATE_OPERATORS.has(key)) {
      throw new MongoCommandError(MongoCode.FailedToParse, `Unknown modifier: ${key}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    if (!isPlainDocument(u[key])) throw new MongoCommandError(MongoCode.FailedToParse, `Modifiers operate on fields but we found type ${typeof u[key]} instead.`);
  }
  checkConflicts(u);
  const { $setOnInsert, ...modifier } = u;
  return { kind: 'operators', modifier, onInsert: $setOnInsert as Document | undefined };
}

/** Two operators touching one path, or a path and its parent, is ConflictingUpdateOperators on mongod. */
function checkConflicts(u: Document): void {
  const paths: string[] = [];
  for (const [operator, fields] of Object.entries(u)) {
    for (const [path, arg] of Object.entries(fields as Document)) {
      paths.push(path);
      if (operator === '$rename' && typeof arg === 'string') paths.push(arg);
    }
  }
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < paths.length; j++) {
      if (i === j) continue;
      if (paths[i] === paths[j] || paths[i].startsWith(`${paths[j]}.`)) {
        throw new MongoCommandError(MongoCode.ConflictingUpdateOperators, `Updating the path '${paths[i]}' would create a conflict at '${paths[j]}'`);
      }
    }
  }
}

function runModifier(doc: Document, modifier: Document): void {
  if (Object.keys(modifier).length === 0) return;
  try {
    applyModifier(doc, modifier, undefined, undefined, { cloneMode: 'deep', queryOptions: MINGO_OPTIONS });
  } catch (err) {
    throw new MongoCommandError(MongoCode.TypeMismatch, (err as Error).message);
  }
}

/** The document an update makes of `current` (a copy; `current` is untouched). */
export function updatedDocument(current: Document, spec: UpdateSpec): Document {
  if (spec.kind === 'replacement') {
    const { _id, ...rest } = spec.doc;
    if (_id !== undefined && compareValues(_id, current._id) !== 0) {
      throw new MongoCommandError(MongoCode.ImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered");
    }
    return { _id: current._id, ...cloneDocument(rest) };
  }
  const next = cloneDocument(current);
  runModifier(next, spec.modifier);
  return next;
}

/**
 * The document an upsert inserts: the equality conditions of the filter (an `_id` among them), then the update —
 * a replacement's fields, or the operators with `$setOnInsert`. An `_id` is generated when none results.
 */
export function upsertedDocument(filter: unknown, spec: UpdateSpec): Document {
  const seed = isPlainDocument(filter) ? equalityFields(filter) : {};
  let doc: Document;
  if (spec.kind === 'replacement') {
    doc = { ...(seed._id !== undefined ? { _id: seed._id } : {}), ...cloneDocument(spec.doc) };
  } else {
    doc = cloneDocument(seed);
    runModifier(doc, spec.modifier);
    if (spec.onInsert) runModifier(doc, { $set: spec.onInsert });
  }
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function equalityFields(filter: Document): Document {
  const out: Document = {};
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const branch of condition) if (isPlainDocument(branch)) Object.assign(out, equalityFields(branch));
      continue;
    }
    if (key.startsWith('$')) continue;
    if (isPlainDocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
      if ('$eq' in condition) setPath(out, key, condition.$eq);
      continue;
    }
    setPath(out, key, condition);
  }
  return out;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainDocument(node[part])) node[part] = {};
    node = node[part] as Document;
  }
  node[parts[parts.length - 1]] = cloneValue(value);
}

function cloneValue(value: unknown): unknown {
  return cloneDocument({ v: value }).v;
}
