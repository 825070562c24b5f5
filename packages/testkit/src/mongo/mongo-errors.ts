import type { Document } from 'bson';

/** The mongod error codes (src/mongo/base/error_codes.yml) that the double answers with. */
export const MongoCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CannotIndexParallelArrays: 171,
  InvalidIndexSpecificationOption: 197,
  NotImplemented: 238,
  UnsupportedOpQueryCommand: 352,
  DuplicateKey: 11000,
  /** "BSON field 'x.y' is an unknown field." (an IDL parse error; its codeName is the location). */
  UnknownField: 40415,
  /** "Unrecognized pipeline stage name: '$x'". */
  UnknownStage: 40324,
} as const;

const NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  13: 'Unauthorized',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  52: 'DollarPrefixedFieldName',
  53: 'InvalidIdField',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  171: 'CannotIndexParallelArrays',
  197: 'InvalidIndexSpecificationOption',
  238: 'NotImplemented',
  352: 'UnsupportedOpQueryCommand',
  11000: 'DuplicateKey',
};

/** A command failure as mongod reports it: `{ ok: 0, errmsg, code, codeName, ...extra }`. */
export class MongoCommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Fields mongod adds beside the code (DuplicateKey: keyPattern, keyValue). */
    readonly extra: Document = {},
  ) {
    super(message);
  }

  get codeName(): string {
    return NAMES[this.code] ?? `Location${this.code}`;
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** One entry of a write command's `writeErrors` (mongod puts no codeName there). */
  toWriteError(index: number): Document {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

export function commandNotFound(name: string): MongoCommandError {
  return new MongoCommandError(MongoCode.CommandNotFound, `no such command: '${name}'`);
}

/** Something real mongod does that this double deliberately does not: say so instead of doing it wrong. */
export function notImplemented(what: string): MongoCommandError {
  return new MongoCommandError(MongoCode.NotImplemented, `the MongoDB test double does not implement ${what}`);
}

export function unknownField(command: string, field: string): MongoCommandError {
  return new MongoCommandError(MongoCode.UnknownField, `BSON field '${command}.${field}' is an unknown field.`);
}

export function badValue(message: string): MongoCommandError {
  return new MongoCommandError(MongoCode.BadValue, message);
}

export function typeMismatch(command: string, field: string, expected: string): MongoCommandError {
  return new MongoCommandError(MongoCode.TypeMismatch, `BSON field '${command}.${field}' is the wrong type, expected type '${expected}'`);
}
