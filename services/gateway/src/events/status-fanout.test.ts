import { describe, expect, it } from 'vitest';
import type { ServiceStatusEvent } from '@remotegpu/core';
import { STATUS_TOPIC, StatusFanout } from './status-fanout.js';

let serial = 0;
function event(workspaceId: number, serviceId = 'svc-aaaaaaaaaa', overrides: Partial<ServiceStatusEvent> = {}): ServiceStatusEvent {
  return {
    eventId: `e-${++serial}`,
    serviceId,
    workspaceId,
    at: new Date().toISOString(),
    status: 'running',
    previousStatus: 'creating',
    reason: null,
    message: null,
    readyReplicas: 1,
    replicas: 1,
    endpoints: [],
    generation: 1,
    version: 1,
    deleted: false,
    ...overrides,
  };
}

/** Everything the stream holds right now, without waiting for more. */
async function drain(stream: AsyncIterator<ServiceStatusEvent>): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const next = await Promise.race([stream.next(), new Promise<'empty'>((resolve) => setImmediate(() => resolve('empty')))]);
    if (next === 'empty' || next.done) return ids;
    ids.push(next.value.eventId);
  }
}

describe('StatusFanout', () => {
  it('routes events to the subscriptions of their workspace, to "all" subscriptions, and by service id', async () => {
    const fanout = new StatusFanout();
    const w1 = fanout.stream({ workspaces: [1] });
    const w12 = fanout.stream({ workspaces: [1, 2, 2] });
    const all = fanout.stream({ workspaces: 'all' });
    const oneService = fanout.stream({ workspaces: [1], serviceId: 'svc-bbbbbbbbbb' });
    const events = [event(1), event(2), event(3), event(1, 'svc-bbbbbbbbbb')];
    for (const e of events) fanout.deliver(e);
    expect(await drain(w1)).toEqual([events[0].eventId, events[3].eventId]);
    expect(await drain(w12)).toEqual([events[0].eventId, events[1].eventId, events[3].eventId]);
    expect(await drain(all)).toEqual(events.map((e) => e.eventId));
    expect(await drain(oneService)).toEqual([events[3].eventId]);
  });

  it('orders by the record version, not the clock: a late, older event never reaches subscribers', async () => {
    const fanout = new StatusFanout();
    const stream = fanout.stream({ workspaces: [1] });
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    const v3 = event(1, 'svc-aaaaaaaaaa', { version: 3, status: 'running' });
    const lateV2 = event(1, 'svc-aaaaaaaaaa', { version: 2, status: 'creating', at: ahead });
    const v3again = event(1, 'svc-aaaaaaaaaa', { version: 3, status: 'running' });
    const v4 = event(1, 'svc-aaaaaaaaaa', { version: 4, status: 'stopping' });
    for (const e of [v3, lateV2, v3again, v4]) fanout.deliver(e);
    expect(await drain(stream)).toEqual([v3.eventId, v3again.eventId, v4.eventId]);
  });

  it('hands an event to a subscriber that is already waiting for one', async () => {
    const fanout = new StatusFanout();
    const stream = fanout.stream({ workspaces: [7] });
    const next = stream.next();
    const e = event(7);
    fanout.deliver(e);
    expect(await next).toEqual({ value: e, done: false });
  });

  it('forgets a subscription once its iteration ends, and ends a waiting next()', async () => {
    const fanout = new StatusFanout();
    const a = fanout.stream({ workspaces: [1, 2] });
    const b = fanout.stream({ workspaces: 'all' });
    expect(fanout.size).toBe(2);
    const waiting = a.next();
    await a.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(fanout.size).toBe(1);
    await b.return!();
    expect(fanout.size).toBe(0);
    fanout.deliver(event(1));
    expect(await a.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps only the newest events for a subscriber that does not keep up', async () => {
    const fanout = new StatusFanout();
    const slow = fanout.stream({ workspaces: [1] });
    const events = Array.from({ length: 300 }, () => event(1));
    for (const e of events) fanout.deliver(e);
    const kept = await drain(slow);
    expect(kept).toHaveLength(256);
    expect(kept).toEqual(events.slice(-256).map((e) => e.eventId));
  });

  it('ends every stream on close', async () => {
    const fanout = new StatusFanout();
    const streams = [fanout.stream({ workspaces: [1] }), fanout.stream({ workspaces: 'all' })];
    fanout.close();
    expect(fanout.size).toBe(0);
    for (const s of streams) expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it('serves type-graphql through its PubSub interface, with the interest as topic id', async () => {
    const fanout = new StatusFanout();
    const stream = fanout.subscribe(STATUS_TOPIC, { workspaces: [5] })[Symbol.asyncIterator]();
    const e = event(5);
    fanout.publish(STATUS_TOPIC, e);
    expect(await stream.next()).toEqual({ value: e, done: false });
    expect(() => fanout.subscribe('other.topic', { workspaces: [5] })).toThrow(/only carries/);
    expect(() => fanout.subscribe(STATUS_TOPIC, { workspaces: ['5'] })).toThrow(/StatusInterest/);
  });
});
