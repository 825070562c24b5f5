import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { ServiceStatusEvent } from '@remotegpu/core';
import { openSqliteStore } from '@remotegpu/store';
import { serviceFixture } from '@remotegpu/store/contract';
import { catchUpFromStore, rememberStoredVersions } from './status-catch-up.js';
import { StatusFanout } from './status-fanout.js';

/** Everything the stream holds right now, without waiting for more. */
async function drain(stream: AsyncIterator<ServiceStatusEvent>): Promise<ServiceStatusEvent[]> {
  const events: ServiceStatusEvent[] = [];
  for (;;) {
    const next = await Promise.race([stream.next(), new Promise<'empty'>((resolve) => setImmediate(() => resolve('empty')))]);
    if (next === 'empty' || next.done) return events;
    events.push(next.value);
  }
}

const silent = pino({ level: 'silent' });

describe('status subscriptions after a bus reconnect (re-read of the store)', () => {
  it('sends each subscriber the current state of what changed while events were lost, and nothing else', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const changed = await store.services.create(serviceFixture({ workspaceId: 7 }));
    const untouched = await store.services.create(serviceFixture({ workspaceId: 7 }));
    const foreign = await store.services.create(serviceFixture({ workspaceId: 8 }));
    const fanout = new StatusFanout();
    await rememberStoredVersions(store, fanout);
    const mine = fanout.stream({ workspaces: [7] });

    // Events lost during the outage: one service ran, another of a foreign workspace too, one was deleted.
    await store.services.update(changed.service.id, changed.service.version, { status: 'running', readyReplicas: 1, endpoints: [{ replicaId: 'r1', url: 'http://127.0.0.1:1' }] });
    await store.services.update(foreign.service.id, foreign.service.version, { status: 'running' });
    const gone = await store.services.create(serviceFixture({ workspaceId: 7 }));
    await store.services.update(gone.service.id, gone.service.version, { deletedAt: new Date().toISOString(), desiredState: 'stopped', status: 'stopping' });

    expect(await catchUpFromStore(store, fanout, silent)).toBe(3);
    const seen = await drain(mine);
    expect(seen.map((e) => [e.serviceId, e.status, e.deleted])).toEqual([
      [changed.service.id, 'running', false],
      [gone.service.id, 'stopping', true],
    ]);
    expect(seen[0]).toMatchObject({ workspaceId: 7, readyReplicas: 1, endpoints: [{ replicaId: 'r1', url: 'http://127.0.0.1:1' }], version: changed.service.version + 1, previousStatus: null });
    expect(seen.map((e) => e.serviceId)).not.toContain(untouched.service.id);

    // A second reconnect with nothing new sends nothing again.
    expect(await catchUpFromStore(store, fanout, silent)).toBe(0);
    expect(await drain(mine)).toEqual([]);
    await store.close();
  });

  it('never moves a subscriber back: a live event newer than the store read wins', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const { service } = await store.services.create(serviceFixture({ workspaceId: 7 }));
    const fanout = new StatusFanout();
    const stream = fanout.stream({ workspaces: [7] });
    fanout.deliver({
      eventId: 'live',
      serviceId: service.id,
      workspaceId: 7,
      at: new Date().toISOString(),
      status: 'stopped',
      previousStatus: 'stopping',
      reason: null,
      message: null,
      readyReplicas: 0,
      replicas: 1,
      endpoints: [],
      generation: 1,
      version: service.version + 5,
      deleted: false,
    });
    await catchUpFromStore(store, fanout, silent);
    expect((await drain(stream)).map((e) => e.eventId)).toEqual(['live']);
    await store.close();
  });
});
