import type { Document } from 'bson';
import { Query } from 'mingo';
import { MongoCode, MongoCommandError, notImplemented } from './mongo-errors.js';
import { formatDocument, indexKeyString, isPlainDocument, valueAt } from './mongo-values.js';

/** An index as `listIndexes` shows it (`v`, `key`, `name`, then its options). */
export interface IndexSpec extends Document {
  v: number;
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

/** Options a createIndexes spec may carry here; anything else mongod knows is refused as not implemented. */
const SUPPORTED_OPTIONS = new Set(['key', 'name', 'v', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'background']);
const KNOWN_UNSUPPORTED = new Set([
  'collation',
  'hidden',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'bucketSize',
  'wildcardProjection',
  'storageEngine',
  'prepareUnique',
  'clustered',
]);

/** What a partial filter may use (MongoDB manual, "Partial Indexes"): equality, $exists: true, ranges, $type, $and/$or/$in. */
const PARTIAL_OPERATORS = new Set(['$eq', '$exists', '$gt', '$gte', '$lt', '$lte', '$type', '$in']);

/** A built index: its spec, its compiled partial filter, and for a unique one every key it holds → the owner's id key. */
export class Index {
  readonly entries = new Map<string, string>();
  private readonly partial: Query | undefined;
  private readonly fields: string[];

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
  ) {
    this.partial = spec.partialFilterExpression ? new Query(spec.partialFilterExpression, { scriptEnabled: false }) : undefined;
    this.fields = Object.keys(spec.key);
  }

  get unique(): boolean {
    return this.spec.unique === true || this.spec.name === '_id_';
  }

  /**
   * The keys a document contributes: none when the partial filter excludes it (or, sparse, it has none of the
   * fields); one per array element for a field holding an array (a multikey index).
   */
  keysOf(doc: Document): { keyString: string; keyValue: Document }[] {
    if (this.partial && !this.partial.test(doc)) return [];
    const values = this.fields.map((f) => valueAt(doc, f));
    if (this.spec.sparse && values.every((v) => v === undefined)) return [];
    const arrays = values.flatMap((v, i) => (Array.isArray(v) ? [i] : []));
    if (arrays.length > 1) {
      throw new MongoCommandError(
        MongoCode.CannotIndexParallelArrays,
        `cannot index parallel arrays [${this.fields[arrays[1]]}] [${this.fields[arrays[0]]}]`,
      );
    }
    const expand: unknown[][] =
      arrays.length === 0
        ? [values]
        : [...new Set((values[arrays[0]] as unknown[]).length ? (values[arrays[0]] as unknown[]) : [undefined])].map((element) =>
            values.map((v, i) => (i === arrays[0] ? element : v)),
          );
    const seen = new Set<string>();
    const keys: { keyString: string; keyValue: Document }[] = [];
    for (const tuple of expand) {
      const keyString = tuple.map(indexKeyString).join('|');
      if (seen.has(keyString)) continue;
      seen.add(keyString);
      const keyValue: Document = {};
      this.fields.forEach((f, i) => (keyValue[f] = tuple[i] === undefined ? null : tuple[i]));
      keys.push({ keyString, keyValue });
    }
    return keys;
  }

  duplicateKeyError(keyValue: Document): MongoCommandError {
    return new MongoCommandError(
      MongoCode.DuplicateKey,
      `E11000 duplicate key error collection: ${this.ns} index: ${this.spec.name} dup key: ${formatDocument(keyValue)}`,
      { keyPattern: { ...this.spec.key }, keyValue },
    );
  }
}

/** Checks one spec of a createIndexes command as mongod would, and returns it in listIndexes form. */
export function parseIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainDocument(raw)) throw new MongoCommandError(MongoCode.TypeMismatch, "BSON field 'createIndexes.indexes' must hold documents");
  for (const option of Object.keys(raw)) {
    if (KNOWN_UNSUPPORTED.has(option)) throw notImplemented(`the index option '${option}'`);
    if (!SUPPORTED_OPTIONS.has(option)) {
      throw new MongoCommandError(MongoCode.InvalidIndexSpecificationOption, `The field '${option}' is not valid for an index specification. Specification: ${formatDocument(raw)}`);
    }
  }
  const key = raw.key;
  if (!isPlainDocument(key) || Object.keys(key).length === 0) throw new MongoCommandError(MongoCode.CannotCreateIndex, 'Index keys cannot be empty.');
  for (const [field, direction] of Object.entries(key)) {
    if (typeof direction === 'string') throw notImplemented(`'${direction}' indexes`);
    if (direction !== 1 && direction !== -1) throw new MongoCommandError(MongoCode.CannotCreateIndex, `Values in the index key pattern must be 1 or -1 here, got ${field}: ${String(direction)}`);
  }
  if (typeof raw.name !== 'string' || raw.name === '') throw new MongoCommandError(MongoCode.CannotCreateIndex, 'The index name must be a non-empty string');
  const spec: IndexSpec = { v: 2, key: key as IndexSpec['key'], name: raw.name };
  if (raw.unique !== undefined && raw.unique !== false) spec.unique = Boolean(raw.unique);
  if (raw.sparse !== undefined && raw.sparse !== false) spec.sparse = Boolean(raw.sparse);
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainDocument(raw.partialFilterExpression)) throw new MongoCommandError(MongoCode.TypeMismatch, 'partialFilterExpression must be an object');
    if (spec.sparse) throw new MongoCommandError(MongoCode.CannotCreateIndex, 'cannot mix "partialFilterExpression" and "sparse" options');
    checkPartialFilter(raw.partialFilterExpression, true);
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  if (raw.expireAfterSeconds !== undefined) {
    const ttl = raw.expireAfterSeconds;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0) {
      throw new MongoCommandError(MongoCode.CannotCreateIndex, `TTL index 'expireAfterSeconds' option must be a non-negative integer, got ${String(ttl)}`);
    }
    if (Object.keys(key).length !== 1) throw new MongoCommandError(MongoCode.CannotCreateIndex, 'TTL indexes are single-field indexes, compound indexes do not support TTL');
    if (Object.keys(key)[0] === '_id') throw new MongoCommandError(MongoCode.CannotCreateIndex, 'The field \'expireAfterSeconds\' is not valid for an _id index specification');
    spec.expireAfterSeconds = ttl;
  }
  return spec;
}

/** Two specs describe the same index (createIndexes of an existing one is then a no-op). */
export function sameIndex(a: IndexSpec, b: IndexSpec): boolean {
  const options = (s: IndexSpec) => formatDocument({ key: s.key, unique: s.unique ?? false, sparse: s.sparse ?? false, partial: s.partialFilterExpression ?? null, ttl: s.expireAfterSeconds ?? null });
  return options(a) === options(b);
}

export function sameKey(a: IndexSpec, b: IndexSpec): boolean {
  return formatDocument(a.key) === formatDocument(b.key);
}

function unsupportedInPartial(operator: string): MongoCommandError {
  return new MongoCommandError(MongoCode.CannotCreateIndex, `Expression not supported in partial index: ${operator}`);
}

function checkPartialFilter(filter: Document, topLevel: boolean): void {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and' || field === '$or') {
      if (!topLevel) throw unsupportedInPartial(`${field} below the top level`);
      if (!Array.isArray(condition)) throw new MongoCommandError(MongoCode.BadValue, `${field} must be an array`);
      for (const branch of condition) {
        if (!isPlainDocument(branch)) throw new MongoCommandError(MongoCode.BadValue, `${field} entries must be objects`);
        checkPartialFilter(branch, false);
      }
      continue;
    }
    if (field.startsWith('$')) throw unsupportedInPartial(field);
    checkPartialCondition(field, condition);
  }
}

function checkPartialCondition(field: string, condition: unknown): void {
  const isOperatorDoc = isPlainDocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'));
  if (!isOperatorDoc) {
    // Equality to null also matches documents without the field; whether a partial filter may say so differs
    // between server versions, so the double refuses it and the adapter keys its partial indexes on a boolean.
    if (condition === null) throw unsupportedInPartial(`${field} $eq null (use a field that is present, e.g. live: true)`);
    return;
  }
  for (const [operator, operand] of Object.entries(condition as Document)) {
    if (!PARTIAL_OPERATORS.has(operator)) throw unsupportedInPartial(operator === '$ne' || operator === '$nin' ? '$not' : operator);
    if (operator === '$exists' && operand !== true && operand !== 1) throw unsupportedInPartial('$not');
    if (operator === '$eq' && operand === null) throw unsupportedInPartial(`${field} $eq null (use a field that is present, e.g. live: true)`);
  }
}
