import { ConfigError } from '@remotegpu/core';
import type { Store } from './store.port.js';
import { openSqliteStore } from './sqlite/sqlite.store.js';
import { openMongoStore } from './mongo/mongo.store.js';

/**
 * The Store adapter a URL names (DESIGN §7 `RGPU_STORE_URL`), chosen at the edge so that no use case knows
 * which one it has: `sqlite:<path>` (`sqlite::memory:` for a throwaway store) or `mongodb://…` / `mongodb+srv://…`
 * (the database is the URL's path, `rgpu` by default). Async because MongoDB connects (and creates its indexes)
 * before it is usable.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new ConfigError(['RGPU_STORE_URL: sqlite: needs a file path, e.g. sqlite:./data/rgpu.db']);
    return openSqliteStore({ path });
  }
  if (/^mongodb(\+srv)?:\/\//.test(url)) {
    return openMongoStore({ url });
  }
  throw new ConfigError([`RGPU_STORE_URL: must be sqlite:<path> or mongodb://…, got "${url.slice(0, 40)}"`]);
}
