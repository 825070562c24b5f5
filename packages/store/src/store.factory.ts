import { ConfigError } from '@remotegpu/core';
import type { Store } from './store.port.js';
import { openSqliteStore } from './sqlite/sqlite.store.js';

/**
 * The Store adapter a URL names (DESIGN §7 `RGPU_STORE_URL`), chosen at the edge so that no use case knows
 * which one it has: `sqlite:<path>` (`sqlite::memory:` for a throwaway store) or, later, `mongodb://…`.
 * Async because a networked adapter connects before it is usable.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new ConfigError(['RGPU_STORE_URL: sqlite: needs a file path, e.g. sqlite:./data/rgpu.db']);
    return openSqliteStore({ path });
  }
  if (/^mongodb(\+srv)?:\/\//.test(url)) {
    throw new ConfigError(['RGPU_STORE_URL: the MongoDB store is not available in this version; use sqlite:<path>']);
  }
  throw new ConfigError([`RGPU_STORE_URL: must be sqlite:<path> or mongodb://…, got "${url.slice(0, 40)}"`]);
}
