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

/** The page's row window; pages count from 1. */
export function pageWindow(page: number, pageSize: number): { limit: number; offset: number } {
  const limit = Math.max(0, Math.floor(pageSize));
  return { limit, offset: Math.max(0, Math.floor(page) - 1) * limit };
}

/** The key names are compared by (see MIGRATIONS): case-insensitive beyond ASCII. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}
