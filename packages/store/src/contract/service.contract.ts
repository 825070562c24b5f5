import { describe, expect, it } from 'vitest';
import { ErrorCode, isStaleWrite } from '@remotegpu/core';
import type { IdempotencyClaim } from '../store.port.js';
import { at, expectAppError, serviceFixture, type StoreHolder } from './contract.fixtures.js';

export function serviceWriteContract(h: StoreHolder): void {
  describe('services: create and get', () => {
    it('round-trips every field, starting at version 1', async () => {
      const input = serviceFixture({
        workspaceId: 7,
        name: 'Résumé classifier v2',
        description: '识别简历 — with "quotes" and \n newlines',
        modelId: 42,
        modelVersion: '2.1.0+build.7',
        framework: 'pytorch',
        cpu: 0.5,
        memory: 2 ** 33 + 7,
        gpu: 2,
        replicas: 3,
        desiredState: 'stopped',
        status: 'stopping',
        statusReason: 'insufficient_gpu',
        // Reason parameters round-trip with their types, so a message can be worded per request.
        statusParams: { waiting: 2, gpus: 1, free: 0, total: 4, note: '识别 "x"' },
        statusMessage: 'stop requested by user',
        readyReplicas: 1,
        // A batching replica's in-flight cap round-trips; a replica without one stays without.
        endpoints: [
          { replicaId: 'r-1', url: 'http://127.0.0.1:40001', maxInFlight: 64 },
          { replicaId: 'r-2', url: 'http://127.0.0.1:40002' },
        ],
        replicaStates: [{ replicaId: 'r-1', generation: 3, state: 'ready', restarts: 2, device: 'cuda', message: null }],
        generation: 4,
        observedGeneration: 3,
        createdAt: at(10),
        updatedAt: at(11),
      });
      const { service, replayed } = await h.store.services.create(input);
      const expected = { ...input, version: 1 };
      expect(replayed).toBe(false);
      expect(service).toEqual(expected);
      expect(await h.store.services.get(input.id)).toEqual(expected);
      expect(await h.store.services.getIncludingDeleted(input.id)).toEqual(expected);
    });

    it('records a created event with the status it was created in', async () => {
      const input = serviceFixture({ status: 'creating', createdAt: at(5), updatedAt: at(5) });
      await h.store.services.create(input);
      expect(await h.store.services.listEvents(input.id)).toEqual([
        { serviceId: input.id, type: 'created', status: 'creating', reason: null, params: null, message: null, at: at(5) },
      ]);
    });

    it('answers null for an unknown id', async () => {
      expect(await h.store.services.get('svc-doesnotexist0000')).toBeNull();
      expect(await h.store.services.getIncludingDeleted('svc-doesnotexist0000')).toBeNull();
    });

    it('rejects a duplicate name in the same workspace, ignoring case, and stores nothing', async () => {
      await h.store.services.create(serviceFixture({ workspaceId: 1, name: 'Image-Net' }));
      const dup = serviceFixture({ workspaceId: 1, name: 'iMAGE-nET' });
      await expectAppError(h.store.services.create(dup), ErrorCode.Conflict);
      expect(await h.store.services.getIncludingDeleted(dup.id)).toBeNull();
      expect(await h.store.services.listEvents(dup.id)).toEqual([]);
    });

    it('compares names case-insensitively beyond ASCII', async () => {
      await h.store.services.create(serviceFixture({ name: 'Ärger' }));
      await expectAppError(h.store.services.create(serviceFixture({ name: 'ärger' })), ErrorCode.Conflict);
    });

    it('allows the same name in another workspace', async () => {
      await h.store.services.create(serviceFixture({ workspaceId: 1, name: 'shared' }));
      const other = serviceFixture({ workspaceId: 2, name: 'shared' });
      await h.store.services.create(other);
      expect((await h.store.services.get(other.id))?.workspaceId).toBe(2);
    });

    it('allows a name again once the service that held it is deleted', async () => {
      const first = (await h.store.services.create(serviceFixture({ name: 'reused' }))).service;
      await h.store.services.update(first.id, first.version, { deletedAt: at(20) });
      const second = serviceFixture({ name: 'reused' });
      await h.store.services.create(second);
      expect((await h.store.services.get(second.id))?.name).toBe('reused');
      expect((await h.store.services.getIncludingDeleted(first.id))?.deletedAt).toBe(at(20));
    });
  });

  describe('services: idempotent create', () => {
    const claim = (over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({ scope: 'user-1', key: 'key-1', requestHash: 'hash-a', ...over });

    it('replays the first service, as it is now, for the same key and body', async () => {
      const first = await h.store.services.create(serviceFixture({ name: 'idem' }), claim());
      expect(first.replayed).toBe(false);
      const moved = await h.store.services.update(first.service.id, 1, { status: 'running', readyReplicas: 1 });
      const retry = serviceFixture({ name: 'idem' });
      const replay = await h.store.services.create(retry, claim());
      expect(replay).toEqual({ service: moved, replayed: true });
      expect(await h.store.services.getIncludingDeleted(retry.id)).toBeNull();
    });

    it('replays a service that was deleted since', async () => {
      const first = await h.store.services.create(serviceFixture(), claim());
      const deleted = await h.store.services.update(first.service.id, 1, { deletedAt: at(30) });
      const replay = await h.store.services.create(serviceFixture(), claim());
      expect(replay).toEqual({ service: deleted, replayed: true });
    });

    it('rejects the same key with another body and creates nothing', async () => {
      await h.store.services.create(serviceFixture(), claim());
      const other = serviceFixture();
      await expectAppError(h.store.services.create(other, claim({ requestHash: 'hash-b' })), ErrorCode.Conflict);
      expect(await h.store.services.getIncludingDeleted(other.id)).toBeNull();
    });

    it('keeps keys of different scopes apart', async () => {
      const a = await h.store.services.create(serviceFixture(), claim({ scope: 'user-1' }));
      const b = await h.store.services.create(serviceFixture(), claim({ scope: 'user-2' }));
      expect(b.replayed).toBe(false);
      expect(b.service.id).not.toBe(a.service.id);
    });

    it('does not spend the key on a create that failed', async () => {
      await h.store.services.create(serviceFixture({ name: 'taken' }));
      await expectAppError(h.store.services.create(serviceFixture({ name: 'taken' }), claim()), ErrorCode.Conflict);
      const fixed = await h.store.services.create(serviceFixture({ name: 'free' }), claim({ requestHash: 'hash-fixed' }));
      expect(fixed).toMatchObject({ replayed: false, service: { name: 'free' } });
    });
  });

  describe('services: optimistic update', () => {
    it('applies the patch, bumps the version and takes updatedAt from the patch', async () => {
      const { service } = await h.store.services.create(serviceFixture({ createdAt: at(1), updatedAt: at(1) }));
      const patch = { replicas: 4, memory: 2 ** 34, cpu: 1.25, statusReason: 'Scaling', updatedAt: at(2) };
      const updated = await h.store.services.update(service.id, 1, patch);
      expect(updated).toEqual({ ...service, ...patch, version: 2 });
      expect(await h.store.services.get(service.id)).toEqual(updated);
      const again = await h.store.services.update(service.id, 2, { statusReason: null, updatedAt: at(3) });
      expect(again).toMatchObject({ version: 3, statusReason: null, replicas: 4 });
    });

    it('stores the observed endpoints and generation the provisioner writes', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      const endpoints = [
        { replicaId: 'a', url: 'http://127.0.0.1:41001', maxInFlight: 32 },
        { replicaId: 'b', url: 'http://127.0.0.1:41002' },
      ];
      const updated = await h.store.services.update(service.id, 1, { endpoints, observedGeneration: 1, readyReplicas: 2 });
      expect(updated).toMatchObject({ observedGeneration: 1, readyReplicas: 2, version: 2 });
      // toEqual: the cap is kept where there is one, and nothing (not even a null) appears where there is none.
      expect(updated.endpoints).toEqual(endpoints);
      expect((await h.store.services.get(service.id))?.endpoints).toEqual(endpoints);
      expect('maxInFlight' in (await h.store.services.get(service.id))!.endpoints[1]).toBe(false);
      const cleared = await h.store.services.update(service.id, 2, { endpoints: [] });
      expect(cleared.endpoints).toEqual([]);
    });

    it('round-trips the replica states the provisioner writes, and leaves them alone on other patches', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      expect(service.replicaStates).toEqual([]);
      const replicaStates = [
        { replicaId: 'a', generation: 1, state: 'ready' as const, restarts: 0, device: 'cpu', message: null },
        { replicaId: 'b', generation: 2, state: 'restarting' as const, restarts: 3, device: null, message: 'exited with code 1' },
      ];
      const updated = await h.store.services.update(service.id, 1, { replicaStates });
      expect(updated.replicaStates).toEqual(replicaStates);
      const other = await h.store.services.update(service.id, 2, { readyReplicas: 1 });
      expect(other.replicaStates).toEqual(replicaStates);
      expect((await h.store.services.get(service.id))?.replicaStates).toEqual(replicaStates);
      const cleared = await h.store.services.update(service.id, 3, { replicaStates: [] });
      expect(cleared.replicaStates).toEqual([]);
    });

    it('sets updatedAt to the current time when the patch has none', async () => {
      const { service } = await h.store.services.create(serviceFixture({ createdAt: at(1), updatedAt: at(1) }));
      const before = Date.now();
      const updated = await h.store.services.update(service.id, 1, { replicas: 2 });
      const stamped = Date.parse(updated.updatedAt);
      expect(stamped).toBeGreaterThanOrEqual(before - 1000);
      expect(stamped).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('rejects a stale version and writes nothing, not even the event', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      await h.store.services.update(service.id, 1, { replicas: 2 });
      const stale = h.store.services.update(service.id, 1, { replicas: 9 }, { type: 'updated', status: 'updating', reason: null, message: null, at: at(9) });
      // Recognised as a lost race, not a plain conflict: otherwise the retry loops of the gateway and the
      // provisioner would give up (or answer 409) instead of re-reading.
      expect(isStaleWrite(await expectAppError(stale, ErrorCode.Conflict)), 'a stale write must satisfy isStaleWrite()').toBe(true);
      expect(await h.store.services.get(service.id)).toMatchObject({ replicas: 2, version: 2 });
      expect((await h.store.services.listEvents(service.id)).map((e) => e.type)).toEqual(['created']);
    });

    it('sets, replaces and clears the status reason parameters', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      const waiting = await h.store.services.update(service.id, 1, { statusReason: 'replicas_unavailable', statusParams: { ready: 1, desired: 3 } });
      expect(waiting.statusParams).toEqual({ ready: 1, desired: 3 });
      const cleared = await h.store.services.update(service.id, 2, { statusReason: null, statusParams: null });
      expect(cleared.statusParams).toBeNull();
      expect((await h.store.services.get(service.id))!.statusParams).toBeNull();
    });

    it('answers 40400 for an unknown id', async () => {
      await expectAppError(h.store.services.update('svc-doesnotexist0000', 1, { replicas: 2 }), ErrorCode.NotFound);
    });

    it('answers 40400 for a deleted service unless the patch concerns the deletion', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      const deleted = await h.store.services.update(service.id, 1, { deletedAt: at(40), desiredState: 'stopped' });
      await expectAppError(h.store.services.update(service.id, deleted.version, { replicas: 3 }), ErrorCode.NotFound);
      const finalizing = await h.store.services.update(service.id, deleted.version, { deletedAt: at(40), status: 'stopped', readyReplicas: 0 });
      expect(finalizing).toMatchObject({ status: 'stopped', version: deleted.version + 1, deletedAt: at(40) });
    });

    it('appends events in order with the updates that carry them', async () => {
      const { service } = await h.store.services.create(serviceFixture({ createdAt: at(1), status: 'creating' }));
      const e1 = { type: 'status_changed' as const, status: 'running' as const, reason: 'replicas_unavailable', params: { ready: 0, desired: 1 }, message: '0 of 1 replicas ready', at: at(2) };
      const e2 = { type: 'stop_requested' as const, status: 'stopping' as const, reason: null, params: null, message: null, at: at(3) };
      await h.store.services.update(service.id, 1, { status: 'running' }, e1);
      await h.store.services.update(service.id, 2, { status: 'stopping', desiredState: 'stopped' });
      await h.store.services.update(service.id, 3, { status: 'stopping' }, e2);
      const events = await h.store.services.listEvents(service.id);
      expect(events).toEqual([
        { serviceId: service.id, type: 'created', status: 'creating', reason: null, params: null, message: null, at: at(1) },
        { serviceId: service.id, ...e1 },
        { serviceId: service.id, ...e2 },
      ]);
      // A limit keeps the newest events, still oldest first.
      expect((await h.store.services.listEvents(service.id, 2)).map((e) => e.type)).toEqual(['status_changed', 'stop_requested']);
    });

    it('rejects a rename onto a taken name and keeps the old one', async () => {
      await h.store.services.create(serviceFixture({ name: 'alpha' }));
      const { service } = await h.store.services.create(serviceFixture({ name: 'beta' }));
      // A duplicate is no lost race: retrying it could never succeed.
      expect(isStaleWrite(await expectAppError(h.store.services.update(service.id, 1, { name: 'ALPHA' }), ErrorCode.Conflict))).toBe(false);
      expect(await h.store.services.get(service.id)).toMatchObject({ name: 'beta', version: 1 });
      expect(await h.store.services.update(service.id, 1, { name: 'Beta' })).toMatchObject({ name: 'Beta', version: 2 });
    });
  });

  describe('services: deletion and purge', () => {
    it('hides a deleted service from get and list but keeps it for the reconciler', async () => {
      const kept = (await h.store.services.create(serviceFixture())).service;
      const gone = (await h.store.services.create(serviceFixture())).service;
      await h.store.services.update(gone.id, 1, { deletedAt: at(50) });
      expect(await h.store.services.get(gone.id)).toBeNull();
      expect((await h.store.services.getIncludingDeleted(gone.id))?.deletedAt).toBe(at(50));
      const page = await h.store.services.list({ visibleWorkspaces: 'all', page: 1, pageSize: 20 });
      expect(page).toEqual({ items: [kept], total: 1 });
      const reconcile = await h.store.services.listForReconcile();
      expect(reconcile.map((s) => s.id).sort()).toEqual([kept.id, gone.id].sort());
    });

    it('purges a deleted service and its events for good', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      await h.store.services.update(service.id, 1, { deletedAt: at(60) });
      await h.store.services.purge(service.id);
      expect(await h.store.services.getIncludingDeleted(service.id)).toBeNull();
      expect(await h.store.services.listForReconcile()).toEqual([]);
      expect(await h.store.services.listEvents(service.id)).toEqual([]);
    });

    it('leaves a live service alone when asked to purge it', async () => {
      const { service } = await h.store.services.create(serviceFixture());
      await h.store.services.purge(service.id);
      expect(await h.store.services.get(service.id)).toEqual(service);
    });
  });
}
