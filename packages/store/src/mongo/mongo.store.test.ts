import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { ErrorCode, isAppError } from '@remotegpu/core';
import { startMongoDouble, type MongoDouble } from '@remotegpu/testkit';
import { runStoreContract, serviceFixture } from '../contract/store.contract.js';
import { expectAppError, versionFixture } from '../contract/contract.fixtures.js';
import { openStore } from '../store.factory.js';
import { openMongoStore, type MongoStore, type MongoStoreOptions } from './mongo.store.js';

/**
 * The MongoDB adapter, driven through the real mongoose driver: the whole store contract over the wire double
 * (always), and again over a real server when MONGODB_URI is set. Each test gets a fresh database, dropped after.
 */
const REAL_URI = process.env.MONGODB_URI;
const { MongoClient } = mongoose.mongo;
const run = randomBytes(3).toString('hex');
let dbCounter = 0;

/** `mongodb://host:port/db?opts` for a database of its own under a base URI that may name one. */
function databaseUrl(base: string, name: string): string {
  const [head, query] = base.split('?');
  const root = head.replace(/^(mongodb(?:\+srv)?:\/\/[^/]+).*$/, '$1');
  return `${root}/${name}${query ? `?${query}` : ''}`;
}

let double: MongoDouble;
beforeAll(async () => {
  double = await startMongoDouble();
});
afterAll(async () => {
  await double?.stop();
});

function contractOn(label: string, baseUri: () => string): void {
  runStoreContract(label, async () => {
    const name = `rgpu_contract_${run}_${++dbCounter}`;
    const store = await openStore(databaseUrl(baseUri(), name));
    return {
      store,
      cleanup: async () => {
        const client = new MongoClient(databaseUrl(baseUri(), name), { serverSelectionTimeoutMS: 2_000 });
        await client.db(name).dropDatabase();
        await client.close();
      },
    };
  });
}

console.info('[store contract] mongodb: running over the MongoDB wire double (packages/testkit) with the real mongoose driver');
contractOn('mongodb (mongoose over the wire double)', () => double.uri);

if (REAL_URI) {
  console.info(`[store contract] mongodb: MONGODB_URI is set: running again against that real server`);
  contractOn('mongodb (mongoose over a real server, MONGODB_URI)', () => REAL_URI);
} else {
  console.info('[store contract] mongodb: MONGODB_URI is not set: the contract did NOT run against a real MongoDB');
  describe('Store contract: mongodb (real server)', () => {
    it.skip('needs MONGODB_URI (e.g. mongodb://127.0.0.1:27017) — not set, so only the double ran', () => undefined);
  });
}

describe('MongoStore over the wire double', () => {
  const opened: MongoStore[] = [];
  const open = async (options: Partial<MongoStoreOptions> = {}, db = `rgpu_adapter_${run}_${++dbCounter}`): Promise<MongoStore> => {
    const store = await openMongoStore({ url: databaseUrl(double.uri, db), ...options });
    opened.push(store);
    return store;
  };

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  it('creates the documented indexes: live-only unique names, list indexes, keys unique with a 24 h TTL', async () => {
    const store = await open();
    const db = store.connection.db!;
    const services = await db.collection('services').listIndexes().toArray();
    expect(services.find((i) => i.name === 'live_name_unique')).toMatchObject({ key: { workspaceId: 1, nameKey: 1 }, unique: true, partialFilterExpression: { live: true } });
    expect(services.map((i) => i.name).sort()).toEqual(['_id_', 'all_oldest', 'live_model', 'live_name_unique', 'live_newest', 'live_status_newest', 'live_workspace_newest']);
    const keys = await db.collection('idempotency_keys').listIndexes().toArray();
    expect(keys.find((i) => i.name === 'scope_key_unique')).toMatchObject({ key: { scope: 1, key: 1 }, unique: true });
    expect(keys.find((i) => i.name === 'expire_after_24h')).toMatchObject({ key: { createdAt: 1 }, expireAfterSeconds: 86_400 });
    expect((await db.collection('models').listIndexes().toArray()).find((i) => i.name === 'workspace_name_unique')).toMatchObject({ unique: true });
    // Opening again leaves them as they are.
    await open({}, db.databaseName);
  });

  it('forgets idempotency keys after 24 hours, and the TTL monitor removes them', async () => {
    let now = new Date('2024-01-01T00:00:00Z');
    const store = await open({ now: () => now });
    const claim = { scope: 'u', key: 'k', requestHash: 'h1' };
    const first = await store.services.create(serviceFixture(), claim);
    now = new Date('2024-01-01T23:59:00Z');
    expect((await store.services.create(serviceFixture(), claim)).service.id).toBe(first.service.id);
    now = new Date('2024-01-02T00:00:01Z');
    const later = await store.services.create(serviceFixture(), { ...claim, requestHash: 'h2' });
    expect(later).toMatchObject({ replayed: false });
    expect(later.service.id).not.toBe(first.service.id);
    const keys = store.connection.db!.collection('idempotency_keys');
    expect(await keys.countDocuments()).toBe(1);
    // The key was written with the fake clock's 2024 date: the double's monitor (real clock) expires it.
    double.sweepTtl();
    expect(await keys.countDocuments()).toBe(0);
  });

  it('finishes an interrupted create under the id its key claimed, once', async () => {
    const store = await open();
    const claim = { scope: 'u', key: 'interrupted', requestHash: 'h' };
    // What a process that died between claiming the key and writing the service leaves behind.
    await store.connection.db!.collection('idempotency_keys').insertOne({ ...claim, serviceId: 'svc-claimedbutlost00', done: false, createdAt: new Date() });
    const retry = await store.services.create(serviceFixture({ name: 'finished' }), claim);
    expect(retry).toMatchObject({ replayed: false, service: { id: 'svc-claimedbutlost00', name: 'finished' } });
    const again = await store.services.create(serviceFixture({ name: 'finished' }), claim);
    expect(again).toEqual({ replayed: true, service: retry.service });
    expect((await store.services.list({ visibleWorkspaces: 'all', page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('answers 40400 when a replayed key points at a purged service', async () => {
    const store = await open();
    const claim = { scope: 'u', key: 'k', requestHash: 'h' };
    const { service } = await store.services.create(serviceFixture(), claim);
    await store.services.update(service.id, 1, { deletedAt: new Date().toISOString() });
    await store.services.purge(service.id);
    await expectAppError(store.services.create(serviceFixture(), claim), ErrorCode.NotFound);
    await expectAppError(store.models.addVersion(versionFixture(424_242)), ErrorCode.NotFound);
  });

  it('keeps the newest history lines up to its limit, in the same write as the status', async () => {
    const store = await open({ eventHistoryLimit: 3 });
    const { service } = await store.services.create(serviceFixture());
    let version = service.version;
    for (let i = 1; i <= 4; i++) {
      const at = new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
      version = (await store.services.update(service.id, version, { readyReplicas: i }, { type: 'status_changed', status: 'running', reason: null, message: `line ${i}`, at })).version;
    }
    expect((await store.services.listEvents(service.id)).map((e) => e.message)).toEqual(['line 2', 'line 3', 'line 4']);
    expect((await store.services.listEvents(service.id, 2)).map((e) => e.message)).toEqual(['line 3', 'line 4']);
  });

  it('refuses a database written by a newer schema', async () => {
    const store = await open();
    const name = store.connection.db!.databaseName;
    await store.connection.db!.collection('store_meta').updateOne({ _id: 'schema' as never }, { $set: { version: 99 } });
    await expect(openMongoStore({ url: databaseUrl(double.uri, name) })).rejects.toThrow(/newer than this program knows/);
  });

  it('answers 503 with Retry-After while the server is away, is unready, and recovers without a restart', async () => {
    const outage = await startMongoDouble();
    const store = await openMongoStore({ url: `${outage.uri}/outage` });
    try {
      const { service } = await store.services.create(serviceFixture());
      await outage.kill();
      const started = Date.now();
      for (const attempt of [store.services.get(service.id), store.services.update(service.id, 1, { replicas: 2 }), store.models.list({ visibleWorkspaces: 'all', page: 1, pageSize: 5 })]) {
        const err = await attempt.then(() => null, (e: unknown) => e);
        expect(isAppError(err), String(err)).toBe(true);
        expect(err).toMatchObject({ code: ErrorCode.Unavailable, retryAfter: 2, reason: 'store_unavailable' });
      }
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started, 'failing fast, not after the driver default 30 s').toBeLessThan(12_000);
      await outage.restart();
      await expect.poll(() => store.ping(), { timeout: 10_000, interval: 200 }).toBe(true);
      expect(await store.services.update(service.id, 1, { replicas: 2 })).toMatchObject({ replicas: 2, version: 2 });
    } finally {
      await store.close();
      await outage.stop();
    }
  }, 30_000);

  it('used nothing the double refuses as not implemented, and met no defect of the double', () => {
    expect(double.refused).toEqual([]);
    expect(double.internalErrors).toEqual([]);
  });
});
