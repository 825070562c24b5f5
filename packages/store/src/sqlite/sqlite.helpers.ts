import Database from 'better-sqlite3';

// SQLite reports constraint failures by extended result code; these are the ones the store turns into 409/404.

/** A UNIQUE index other than the primary key (for services and models: the name index). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function isPrimaryKeyViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

// Shared with the MongoDB adapter, so both compare names and page alike (see MIGRATIONS for name_key).
export { nameKey, pageWindow } from '../store.keys.js';
