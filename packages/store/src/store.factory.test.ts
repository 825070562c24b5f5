import { describe, expect, it } from 'vitest';
import { isConfigError } from '@remotegpu/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './store.factory.js';

describe('openStore(url)', () => {
  it('opens the SQLite adapter for sqlite:<path> and it answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgpu-store-factory-'));
    try {
      const store = await openStore(`sqlite:${dir}/nested/rgpu.db`);
      expect(await store.ping()).toBe(true);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['sqlite:', /needs a file path/],
    ['mongodb://db:27017/rgpu', /MongoDB store is not available/],
    ['postgres://db/rgpu', /must be sqlite:<path> or mongodb/],
  ])('%s → a ConfigError naming RGPU_STORE_URL', async (url, why) => {
    const err = await openStore(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/RGPU_STORE_URL/);
    expect((err as Error).message).toMatch(why);
  });
});
