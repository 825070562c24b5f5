import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store.port.js';
import type { StoreHolder } from './contract.fixtures.js';
import { modelContract } from './model.contract.js';
import { serviceListContract } from './service-list.contract.js';
import { serviceWriteContract } from './service.contract.js';

export { serviceFixture } from './contract.fixtures.js';

export interface StoreUnderTest {
  store: Store;
  cleanup?: () => Promise<void>;
}

/**
 * The behaviour every Store adapter must show. Run it from the adapter's test file:
 * `runStoreContract('sqlite', async () => ({ store: openSqliteStore({ path }), cleanup }))`.
 * The factory must hand out an empty store each time; the suite closes it, then calls `cleanup`.
 */
export function runStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const holder: StoreHolder = {
      get store(): Store {
        if (!current) throw new Error('the store is only available inside a test');
        return current.store;
      },
    };

    beforeEach(async () => {
      current = await factory();
    });

    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.store.close();
      await done?.cleanup?.();
    });

    it('answers ping', async () => {
      expect(await holder.store.ping()).toBe(true);
    });

    serviceWriteContract(holder);
    serviceListContract(holder);
    modelContract(holder);
  });
}
