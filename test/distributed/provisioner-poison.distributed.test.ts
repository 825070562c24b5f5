import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '@remotegpu/bus';
import type { ServiceStatusEvent } from '@remotegpu/core';
import type { Store } from '@remotegpu/store';
import { DistributedStack, type ServiceProcess } from '../support/distributed-stack.js';
import { PlatformClient, waitFor } from '../support/client.js';
import { connectStackBus, openStackStore } from '../support/provisioner-process.js';

const WS = 73;
const MAX_DELIVER = 3;

/**
 * A poison intent: a service whose record makes every reconcile throw (a GPU count of -1, as a corrupt row or an older
 * writer could leave it; the local runtime refuses such a spec). Its intent is delivered at most
 * PROVISIONER_INTENT_MAX_DELIVER times, then the service shows a readable reason; meanwhile and afterwards every
 * other service keeps converging, and the periodic resync keeps trying the poisoned one (it heals once repaired).
 */
describe('a poison intent through the provisioner process', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let bus: EventBus;
  let store: Store;
  let provisioner: ServiceProcess;
  let modelId: number;
  const statusEvents: ServiceStatusEvent[] = [];

  beforeAll(async () => {
    stack = await DistributedStack.start({ env: { PROVISIONER_INTENT_MAX_DELIVER: String(MAX_DELIVER) } });
    provisioner = stack.provisioners[0];
    api = new PlatformClient(stack.url, await stack.token({ sub: 'poison', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token, 'v1');
    bus = await connectStackBus(stack);
    await bus.subscribe('service.status', (event) => void statusEvents.push(event));
    store = await openStackStore(stack);
  }, 90_000);

  afterAll(async () => {
    await bus?.close();
    await store?.close();
    await stack?.stop();
  }, 60_000);

  async function create(name: string, replicas: number): Promise<string> {
    const body = { name, workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas };
    return ((await api.expectOk('POST', '/inference/services', body, 201)) as { service_id: string }).service_id;
  }

  function busLines(msg: string, eventId: string): Record<string, unknown>[] {
    return provisioner.logs().filter((l) => l.msg === msg && l.eventId === eventId);
  }

  it('bounded redeliveries, then a readable reason; every other service keeps converging; the resync heals it once repaired', async () => {
    const healthy = await create('healthy', 1);
    const poisoned = await create('poisoned', 1);
    await api.waitRunning(healthy, 1, 60_000);
    await api.waitRunning(poisoned, 1, 60_000);

    // Corrupt the record, then announce it as the gateway would.
    const current = (await store.services.get(poisoned))!;
    const corrupt = await store.services.update(poisoned, current.version, { gpu: -1 });
    const eventId = randomUUID();
    await bus.publish('service.intent', {
      eventId,
      serviceId: poisoned,
      workspaceId: WS,
      at: new Date().toISOString(),
      intent: 'update',
      generation: corrupt.generation,
      correlationId: 'poison-req',
    });

    // While the bus redelivers the poison with backoff, other services are created and scaled as usual.
    const later = await create('later', 2);
    await api.expectOk('PATCH', `/inference/services/${healthy}`, { replicas: 2 });
    await api.waitRunning(later, 2, 60_000);
    await api.waitRunning(healthy, 2, 60_000);

    // Bounded: delivered MAX_DELIVER times (each failure logged by the bus), then given up once.
    await waitFor(() => busLines('bus: event given up after its last delivery', eventId), (lines) => lines.length === 1, 'the intent given up', 30_000);
    expect(busLines('bus: event handler failed; redelivering', eventId)).toHaveLength(MAX_DELIVER - 1);
    expect(busLines('bus: event given up after its last delivery', eventId)[0]).toMatchObject({ deliveries: MAX_DELIVER });

    // Readable, in the caller's language; the status itself is not invented (it still runs its old replica).
    const detail = await api.waitForDetail(poisoned, (d) => d.status_reason === 'reconcile_failing', 'showing reconcile_failing', 10_000);
    expect(detail.status).toBe('running');
    expect(detail.status_message).toBe(
      `applying the latest change to this service failed ${MAX_DELIVER} times in a row; last error: spec.gpu must be a non-negative integer, got -1; the platform keeps retrying`,
    );
    const zh = await fetch(`${stack.url}/api/v1/inference/services/${poisoned}`, { headers: { authorization: `Bearer ${api.token}`, 'accept-language': 'zh-CN' } });
    expect(((await zh.json()) as { data: { status_message: string } }).data.status_message).toBe(
      `处理该服务的变更连续 ${MAX_DELIVER} 次失败，最近一次: spec.gpu must be a non-negative integer, got -1；平台会继续定期重试`,
    );
    // Subscribers hear it, tied to the request that caused it.
    await waitFor(
      () => statusEvents.filter((e) => e.serviceId === poisoned && e.reason === 'reconcile_failing'),
      (events) => events.length > 0,
      'a status event with the reason',
      5_000,
    );
    expect(statusEvents.find((e) => e.serviceId === poisoned && e.reason === 'reconcile_failing')).toMatchObject({ correlationId: 'poison-req', status: 'running' });
    // The provisioner's own lines about it carry the correlation id too.
    expect(provisioner.logs().some((l) => l.msg === 'reconcile failed; retrying' && l.serviceId === poisoned && l.correlationId === 'poison-req')).toBe(true);

    // Never redelivered again; the resync keeps trying on its own (every 2 s here).
    const failuresAtGiveUp = provisioner.logs().filter((l) => l.msg === 'reconcile failed; retrying' && l.serviceId === poisoned).length;
    await waitFor(
      () => provisioner.logs().filter((l) => l.msg === 'reconcile failed; retrying' && l.serviceId === poisoned).length,
      (n) => n > failuresAtGiveUp,
      'the resync tries again',
      10_000,
    );
    expect(busLines('bus: event handler failed; redelivering', eventId)).toHaveLength(MAX_DELIVER - 1);
    expect(busLines('bus: event given up after its last delivery', eventId)).toHaveLength(1);

    // Repaired without any intent: the resync converges it and the reason goes.
    const stuck = (await store.services.get(poisoned))!;
    await store.services.update(poisoned, stuck.version, { gpu: 0 });
    const healed = await api.waitForDetail(poisoned, (d) => d.status_reason === null && d.status === 'running' && d.ready_replicas === 1, 'healed', 30_000);
    expect(healed.status_message).toBeNull();
  }, 180_000);
});
