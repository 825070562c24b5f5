import type { Document } from 'bson';
import { MongoCode, MongoCommandError, notImplemented, typeMismatch, unknownField } from './mongo-errors.js';
import type { MongoState } from './mongo-state.js';

/** What a command handler is given. */
export interface CommandContext {
  state: MongoState;
  /** The database the command names (`$db`, or the namespace of a legacy OP_QUERY). */
  db: string;
  connectionId: number;
}

export type CommandHandler = (ctx: CommandContext, body: Document) => Document;

/** Fields any command may carry: the driver's session, read preference, concerns, timeouts and comments. */
const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  '$readPreference',
  '$clusterTime',
  'writeConcern',
  'readConcern',
  'maxTimeMS',
  'comment',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
]);

/** Transactions need a replica set; a standalone mongod refuses their fields, and so does the double. */
const TRANSACTION_FIELDS = new Set(['txnNumber', 'autocommit', 'startTransaction']);

/**
 * Checks a command's fields: `allowed` are implemented; `unsupported` are options mongod has that the double
 * refuses by name (so the adapter cannot depend on them unnoticed); anything else is mongod's unknown-field error.
 */
export function checkFields(body: Document, allowed: readonly string[], unsupported: readonly string[] = []): void {
  const command = Object.keys(body)[0];
  for (const field of Object.keys(body).slice(1)) {
    if (allowed.includes(field) || GENERIC_FIELDS.has(field)) continue;
    if (TRANSACTION_FIELDS.has(field)) {
      throw new MongoCommandError(MongoCode.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (unsupported.includes(field)) throw notImplemented(`${command}.${field}`);
    throw unknownField(command, field);
  }
}

/** The collection a command names in its first field (`{ find: "services", … }`). */
export function collectionName(body: Document): string {
  const [command, name] = Object.entries(body)[0];
  if (typeof name !== 'string') throw new MongoCommandError(MongoCode.InvalidNamespace, `collection name has invalid type ${typeof name} in ${command}`);
  return name;
}

export function optionalNumber(body: Document, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw typeMismatch(Object.keys(body)[0], field, 'long');
  return n;
}

export function optionalBoolean(body: Document, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean' && typeof value !== 'number') throw typeMismatch(Object.keys(body)[0], field, 'bool');
  return Boolean(value);
}

/** Cursor ids arrive as Long or, when small, as plain numbers (promoteLongs). */
export function cursorIdFrom(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'bigint') return value;
  if (value && typeof value === 'object' && 'toBigInt' in value) return (value as { toBigInt(): bigint }).toBigInt();
  throw new MongoCommandError(MongoCode.TypeMismatch, 'a cursor id must be a long');
}
