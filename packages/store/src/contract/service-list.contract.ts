import { describe, expect, it } from 'vitest';
import type { InferenceService } from '@remotegpu/core';
import type { NewService, ServiceListFilter } from '../store.port.js';
import { at, serviceFixture, type StoreHolder } from './contract.fixtures.js';

export function serviceListContract(h: StoreHolder): void {
  const create = async (over: Partial<NewService>): Promise<InferenceService> =>
    (await h.store.services.create(serviceFixture(over))).service;
  const list = (over: Partial<ServiceListFilter> = {}) =>
    h.store.services.list({ visibleWorkspaces: 'all', page: 1, pageSize: 20, ...over });
  const names = (page: { items: InferenceService[] }) => page.items.map((s) => s.name);

  describe('services: list', () => {
    it('lists newest first, then by id descending on equal timestamps', async () => {
      await create({ name: 'oldest', createdAt: at(1) });
      await create({ name: 'newest', createdAt: at(3) });
      await create({ name: 'middle', createdAt: at(2) });
      const tieA = await create({ name: 'tie-a', id: 'svc-aaaaaaaaaaaaaaaa', createdAt: at(0) });
      const tieB = await create({ name: 'tie-b', id: 'svc-bbbbbbbbbbbbbbbb', createdAt: at(0) });
      const page = await list();
      expect(names(page)).toEqual(['newest', 'middle', 'oldest', tieB.name, tieA.name]);
      expect(page.total).toBe(5);
    });

    it('pages through the results with a stable total', async () => {
      for (let i = 1; i <= 5; i++) await create({ name: `p${i}`, createdAt: at(i) });
      const pages = await Promise.all([1, 2, 3, 4].map((page) => list({ page, pageSize: 2 })));
      expect(pages.map(names)).toEqual([['p5', 'p4'], ['p3', 'p2'], ['p1'], []]);
      expect(pages.map((p) => p.total)).toEqual([5, 5, 5, 5]);
    });

    it('shows only the workspaces the caller may see, and nothing for none', async () => {
      await create({ name: 'w1', workspaceId: 1, createdAt: at(1) });
      await create({ name: 'w2', workspaceId: 2, createdAt: at(2) });
      await create({ name: 'w3', workspaceId: 3, createdAt: at(3) });
      expect(await list({ visibleWorkspaces: [1, 3] }).then(names)).toEqual(['w3', 'w1']);
      expect(await list({ visibleWorkspaces: [1, 3] }).then((p) => p.total)).toBe(2);
      expect(await list({ visibleWorkspaces: [] })).toEqual({ items: [], total: 0 });
      // Asking for a workspace one may not see yields nothing rather than leaking it.
      expect(await list({ visibleWorkspaces: [1], workspaceId: 2 })).toEqual({ items: [], total: 0 });
      expect(await list({ workspaceId: 2 }).then(names)).toEqual(['w2']);
    });

    it('filters by status', async () => {
      await create({ name: 'up', status: 'running', createdAt: at(1) });
      await create({ name: 'down', status: 'stopped', createdAt: at(2) });
      await create({ name: 'up2', status: 'running', createdAt: at(3) });
      expect(await list({ status: 'running' })).toMatchObject({ total: 2 });
      expect(await list({ status: 'running' }).then(names)).toEqual(['up2', 'up']);
      expect(await list({ status: 'failed' })).toEqual({ items: [], total: 0 });
    });

    it('matches a name substring case-insensitively and takes % and _ literally', async () => {
      await create({ name: 'ResNet-50', createdAt: at(1) });
      await create({ name: 'resnet_tiny', createdAt: at(2) });
      await create({ name: 'mobile%net', createdAt: at(3) });
      await create({ name: 'mobileXnet', createdAt: at(4) });
      await create({ name: 'ÄRGER detector', createdAt: at(5) });
      expect(await list({ nameContains: 'RESNET' }).then(names)).toEqual(['resnet_tiny', 'ResNet-50']);
      expect(await list({ nameContains: '%' }).then(names)).toEqual(['mobile%net']);
      expect(await list({ nameContains: 'e%n' }).then(names)).toEqual(['mobile%net']);
      expect(await list({ nameContains: '_' }).then(names)).toEqual(['resnet_tiny']);
      expect(await list({ nameContains: 'mobile_net' })).toEqual({ items: [], total: 0 });
      expect(await list({ nameContains: 'ärger' }).then(names)).toEqual(['ÄRGER detector']);
    });

    it('combines filters', async () => {
      await create({ name: 'a-run-1', workspaceId: 1, status: 'running', createdAt: at(1) });
      await create({ name: 'a-run-2', workspaceId: 2, status: 'running', createdAt: at(2) });
      await create({ name: 'b-run-1', workspaceId: 1, status: 'running', createdAt: at(3) });
      await create({ name: 'a-stop-1', workspaceId: 1, status: 'stopped', createdAt: at(4) });
      const page = await list({ visibleWorkspaces: [1, 2], workspaceId: 1, status: 'running', nameContains: 'A-' });
      expect(page).toMatchObject({ total: 1 });
      expect(names(page)).toEqual(['a-run-1']);
    });
  });
}
