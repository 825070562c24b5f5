import { describe, expect, it } from 'vitest';
import { ErrorCode, type Model } from '@remotegpu/core';
import type { ModelListFilter, NewModel } from '../store.port.js';
import { at, expectAppError, modelFixture, serviceFixture, versionFixture, type StoreHolder } from './contract.fixtures.js';

export function modelContract(h: StoreHolder): void {
  const create = (over: Partial<NewModel> = {}): Promise<Model> => h.store.models.create(modelFixture(over));
  const list = (over: Partial<ModelListFilter> = {}) => h.store.models.list({ visibleWorkspaces: 'all', page: 1, pageSize: 20, ...over });

  describe('models', () => {
    it('assigns increasing integer ids and round-trips every field', async () => {
      const input = modelFixture({ workspaceId: 3, name: 'ResNet 50', framework: 'pytorch', description: '图像分类', createdAt: at(1), updatedAt: at(2) });
      const a = await h.store.models.create(input);
      const b = await create();
      const c = await create();
      expect(Number.isInteger(a.id)).toBe(true);
      expect(b.id).toBeGreaterThan(a.id);
      expect(c.id).toBeGreaterThan(b.id);
      expect(a).toEqual({ ...input, id: a.id });
      expect(await h.store.models.get(a.id)).toEqual(a);
    });

    it('answers null for an unknown id', async () => {
      expect(await h.store.models.get(987_654)).toBeNull();
    });

    it('rejects a duplicate name in the same workspace, ignoring case', async () => {
      await create({ workspaceId: 1, name: 'Classifier' });
      await expectAppError(create({ workspaceId: 1, name: 'CLASSIFIER' }), ErrorCode.Conflict);
      const other = await create({ workspaceId: 2, name: 'classifier' });
      expect(other.workspaceId).toBe(2);
      expect((await list()).total).toBe(2);
    });

    it('lists newest first with workspace filters and pagination', async () => {
      for (let i = 1; i <= 5; i++) await create({ name: `m${i}`, workspaceId: i % 2 === 0 ? 2 : 1, createdAt: at(i) });
      const names = (p: { items: Model[] }) => p.items.map((m) => m.name);
      expect(names(await list())).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
      expect(await list({ page: 2, pageSize: 2 }).then(names)).toEqual(['m3', 'm2']);
      expect(await list({ page: 3, pageSize: 2 })).toMatchObject({ total: 5 });
      expect(await list({ page: 3, pageSize: 2 }).then(names)).toEqual(['m1']);
      expect(await list({ visibleWorkspaces: [2] }).then(names)).toEqual(['m4', 'm2']);
      expect(await list({ workspaceId: 1 })).toMatchObject({ total: 3 });
      expect(await list({ visibleWorkspaces: [2], workspaceId: 1 })).toEqual({ items: [], total: 0 });
      expect(await list({ visibleWorkspaces: [] })).toEqual({ items: [], total: 0 });
    });

    it('round-trips versions, with and without preprocessing, oldest first', async () => {
      const model = await create();
      const v1 = versionFixture(model.id, { version: '1.0.0', createdAt: at(1) });
      const v2 = versionFixture(model.id, { version: '2.0.0-rc.1', preprocessing: null, labels: ['yes', 'no'], createdAt: at(2) });
      expect(await h.store.models.addVersion(v1)).toEqual(v1);
      expect(await h.store.models.addVersion(v2)).toEqual(v2);
      expect(await h.store.models.getVersion(model.id, '1.0.0')).toEqual(v1);
      expect(await h.store.models.getVersion(model.id, '2.0.0-rc.1')).toEqual(v2);
      expect(await h.store.models.listVersions(model.id)).toEqual([v1, v2]);
    });

    it('rejects a duplicate version of the same model but not of another model', async () => {
      const a = await create();
      const b = await create();
      await h.store.models.addVersion(versionFixture(a.id, { version: '1.0.0' }));
      await expectAppError(h.store.models.addVersion(versionFixture(a.id, { version: '1.0.0', sha256: 'b'.repeat(64) })), ErrorCode.Conflict);
      expect((await h.store.models.getVersion(a.id, '1.0.0'))?.sha256).toBe('a'.repeat(64));
      await h.store.models.addVersion(versionFixture(b.id, { version: '1.0.0' }));
      expect(await h.store.models.listVersions(b.id)).toHaveLength(1);
    });

    it('answers null for an unknown version and an empty list for a model without versions', async () => {
      const model = await create();
      expect(await h.store.models.getVersion(model.id, '9.9.9')).toBeNull();
      expect(await h.store.models.getVersion(987_654, '1.0.0')).toBeNull();
      expect(await h.store.models.listVersions(model.id)).toEqual([]);
    });

    it('deletes one version, returning it, and leaves the others and other models alone', async () => {
      const a = await create();
      const b = await create();
      const v1 = versionFixture(a.id, { version: '1.0.0', createdAt: at(1) });
      const v2 = versionFixture(a.id, { version: '2.0.0', createdAt: at(2) });
      await h.store.models.addVersion(v1);
      await h.store.models.addVersion(v2);
      await h.store.models.addVersion(versionFixture(b.id, { version: '1.0.0' }));
      expect(await h.store.models.deleteVersion(a.id, '1.0.0')).toEqual(v1);
      expect(await h.store.models.getVersion(a.id, '1.0.0')).toBeNull();
      expect(await h.store.models.listVersions(a.id)).toEqual([v2]);
      expect(await h.store.models.getVersion(b.id, '1.0.0')).not.toBeNull();
      expect(await h.store.models.deleteVersion(a.id, '1.0.0')).toBeNull();
      // The version can be uploaded again afterwards.
      expect(await h.store.models.addVersion(v1)).toEqual(v1);
    });

    it('stores a version\'s batching at upload and sets or removes it later (absent: off)', async () => {
      const model = await create({ workspaceId: 5 });
      const batching = { maxBatchSize: 16, maxQueueDelayMs: 5, preferredBatchSizes: [4, 8] };
      const plain = versionFixture(model.id, { version: '1.0.0', createdAt: at(1) });
      const batched = versionFixture(model.id, { version: '2.0.0', createdAt: at(2), batching });
      expect(await h.store.models.addVersion(plain)).toEqual(plain);
      expect(await h.store.models.addVersion(batched)).toEqual(batched);
      expect((await h.store.models.getVersion(model.id, '1.0.0'))!.batching).toBeUndefined();
      expect((await h.store.models.getVersion(model.id, '2.0.0'))!.batching).toEqual(batching);
      const set = await h.store.models.setVersionBatching(model.id, '1.0.0', { ...batching, maxBatchSize: 32 });
      expect(set).toEqual({ ...plain, batching: { ...batching, maxBatchSize: 32 } });
      expect(await h.store.models.getVersion(model.id, '1.0.0')).toEqual(set);
      const off = await h.store.models.setVersionBatching(model.id, '2.0.0', null);
      expect(off).toEqual({ ...batched, batching: undefined });
      expect('batching' in (await h.store.models.getVersion(model.id, '2.0.0'))!).toBe(false);
      expect(await h.store.models.setVersionBatching(model.id, '9.9.9', null)).toBeNull();
    });

    it('deletes a model with its versions, frees its name, and answers null the second time', async () => {
      const model = await create({ workspaceId: 4, name: 'Gone' });
      const other = await create({ workspaceId: 4 });
      const v1 = versionFixture(model.id, { version: '1.0.0', createdAt: at(1) });
      const v2 = versionFixture(model.id, { version: '2.0.0', createdAt: at(2) });
      await h.store.models.addVersion(v1);
      await h.store.models.addVersion(v2);
      expect(await h.store.models.delete(model.id)).toEqual([v1, v2]);
      expect(await h.store.models.get(model.id)).toBeNull();
      expect(await h.store.models.listVersions(model.id)).toEqual([]);
      expect(await h.store.models.getVersion(model.id, '1.0.0')).toBeNull();
      expect(await h.store.models.delete(model.id)).toBeNull();
      expect(await h.store.models.get(other.id)).toEqual(other);
      expect((await list({ workspaceId: 4 })).items.map((m) => m.id)).toEqual([other.id]);
      const again = await create({ workspaceId: 4, name: 'gone' });
      expect(again.id).not.toBe(model.id);
    });

    it('lists the live services that use a model or one of its versions, oldest first, bounded', async () => {
      const s1 = await h.store.services.create(serviceFixture({ modelId: 77, modelVersion: '1.0.0', createdAt: at(1) }));
      const s2 = await h.store.services.create(serviceFixture({ modelId: 77, modelVersion: '2.0.0', createdAt: at(2) }));
      const s3 = await h.store.services.create(serviceFixture({ modelId: 77, modelVersion: '1.0.0', createdAt: at(3) }));
      await h.store.services.create(serviceFixture({ modelId: 78, modelVersion: '1.0.0' }));
      const ids = (list: { id: string }[]) => list.map((s) => s.id);
      expect(ids(await h.store.services.listUsingModel(77))).toEqual([s1.service.id, s2.service.id, s3.service.id]);
      expect(ids(await h.store.services.listUsingModel(77, '1.0.0'))).toEqual([s1.service.id, s3.service.id]);
      expect(ids(await h.store.services.listUsingModel(77, undefined, 2))).toEqual([s1.service.id, s2.service.id]);
      expect(await h.store.services.listUsingModel(77, '9.9.9')).toEqual([]);
      // A deleted service no longer holds the model.
      const s = s1.service;
      await h.store.services.update(s.id, s.version, { deletedAt: at(9) });
      expect(ids(await h.store.services.listUsingModel(77, '1.0.0'))).toEqual([s3.service.id]);
    });
  });
}
