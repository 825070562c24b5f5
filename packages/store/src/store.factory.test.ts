import { describe, expect, it } from 'vitest';
import { isConfigError } from '@remotegpu/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongoDouble } from '@remotegpu/testkit';
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

  it('opens the MongoDB adapter for mongodb://… and it answers', async () => {
    const double = await startMongoDouble();
    try {
      const store = await openStore(`${double.uri}/factory`);
      expect(store.constructor.name).toBe('MongoStore');
      expect(await store.ping()).toBe(true);
      await store.close();
    } finally {
      await double.stop();
    }
  });

  it.each([
    ['sqlite:', /needs a file path/],
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
