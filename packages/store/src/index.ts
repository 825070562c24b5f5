export * from './store.port.js';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite.store.js';
export { MIGRATIONS } from './sqlite/sqlite.migrations.js';
export { openMongoStore, MongoStore, type MongoStoreOptions } from './mongo/mongo.store.js';
export { openStore } from './store.factory.js';
