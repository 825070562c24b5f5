export * from './store.port.js';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite.store.js';
export { MIGRATIONS } from './sqlite/sqlite.migrations.js';
export { openStore } from './store.factory.js';
