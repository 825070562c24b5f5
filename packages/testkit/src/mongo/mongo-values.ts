import { deserialize, ObjectId, serialize, type Document } from 'bson';

/** A value read at a dotted path: `undefined` when the path does not exist. */
export function valueAt(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

interface BsonTyped {
  _bsontype?: string;
}

function bsonType(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? (value as BsonTyped)._bsontype : undefined;
}

/**
 * A canonical string for a value as an index compares it: numbers by value whatever their BSON type (1, 1.0 and
 * NumberLong(1) are one key), strings by their bytes (no collation), dates by instant, documents field by field in
 * order, missing and null alike. Two values are one index key exactly when their canonical strings are equal.
 */
export function indexKeyString(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'number') return `n:${Object.is(value, -0) ? 0 : value}`;
  if (typeof value === 'bigint') return `n:${value}`;
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (value instanceof RegExp) return `r:${value.source}/${value.flags}`;
  if (Array.isArray(value)) return `a:[${value.map(indexKeyString).join(',')}]`;
  switch (bsonType(value)) {
    case 'ObjectId':
    case 'ObjectID':
      return `o:${(value as ObjectId).toHexString()}`;
    case 'Long':
    case 'Int32':
    case 'Double':
      return `n:${Number((value as { valueOf(): number }).valueOf())}`;
    case 'Decimal128':
      return `n:${Number(String(value))}`;
    case undefined:
      return `{${Object.entries(value as Document)
        .map(([k, v]) => `${JSON.stringify(k)}:${indexKeyString(v)}`)
        .join(',')}}`;
    default:
      return `x:${bsonType(value)}:${String(value)}`;
  }
}

/** A value as mongod writes it in a duplicate-key message: `{ name: "x", n: 1, at: new Date(1700000000000) }`. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`;
  const type = bsonType(value);
  if (type === 'ObjectId' || type === 'ObjectID') return `ObjectId('${(value as ObjectId).toHexString()}')`;
  if (type !== undefined) return String(value);
  return formatDocument(value as Document);
}

export function formatDocument(doc: Document): string {
  const entries = Object.entries(doc);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')} }`;
}

/** An embedded document (not an array, date, regex or other BSON value class). */
export function isPlainDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof RegExp) && bsonType(value) === undefined;
}

/** A deep copy through BSON, so a stored document never shares objects with a request or a reply. */
export function cloneDocument<T extends Document>(doc: T): T {
  return deserialize(serialize(doc), { promoteLongs: true, promoteValues: true }) as T;
}

/** MongoDB's order between BSON types (the "comparison/sort order" of the manual); missing sorts as null. */
function typeRank(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value === 'number' || typeof value === 'bigint') return 2;
  if (typeof value === 'string') return 3;
  if (typeof value === 'boolean') return 8;
  if (value instanceof Date) return 9;
  if (value instanceof RegExp) return 11;
  if (Array.isArray(value)) return 5;
  switch (bsonType(value)) {
    case undefined:
      return 4;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 2;
    case 'Binary':
      return 6;
    case 'ObjectId':
    case 'ObjectID':
      return 7;
    case 'Timestamp':
      return 10;
    case 'MinKey':
      return 0;
    case 'MaxKey':
      return 12;
    default:
      return 3;
  }
}

function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : Number(String(value));
}

/** Compares two BSON values as a sort does (arrays are handled by {@link sortKeyOf}). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1:
      return 0;
    case 2: {
      const x = numberOf(a);
      const y = numberOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
      // Binary comparison of UTF-8 bytes, as mongod without a collation.
      return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
    case 4: {
      const ea = Object.entries(a as Document);
      const eb = Object.entries(b as Document);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const byValueType = typeRank(ea[i][1]) - typeRank(eb[i][1]);
        if (byValueType) return byValueType < 0 ? -1 : 1;
        const byName = Buffer.compare(Buffer.from(ea[i][0]), Buffer.from(eb[i][0]));
        if (byName) return byName;
        const byValue = compareValues(ea[i][1], eb[i][1]);
        if (byValue) return byValue;
      }
      return ea.length - eb.length;
    }
    case 5: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c) return c;
      }
      return xa.length - xb.length;
    }
    case 7:
      return (a as ObjectId).toHexString().localeCompare((b as ObjectId).toHexString());
    case 8:
      return Number(a) - Number(b);
    case 9:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    default:
      return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  }
}

/** The value a sort on `path` compares: for an array, its smallest element ascending and its largest descending. */
export function sortKeyOf(doc: Document, path: string, direction: 1 | -1): unknown {
  const value = valueAt(doc, path);
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return undefined;
  return value.reduce((best: unknown, v: unknown) => (compareValues(v, best) * direction < 0 ? v : best));
}
