import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import type { EventBus } from '@remotegpu/bus';
import type { ServiceIntentEvent, ServiceStatusEvent } from '@remotegpu/core';
import { NATS_URL } from '@remotegpu/testkit';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { replicaPids } from '../support/replicas.js';
import { subscribeStatuses, type StatusStream } from '../support/ws.js';
import { connectStackBus, ReplicaCensus, republishRaw } from '../support/provisioner-process.js';

const WS = 74;

/**
 * Every intent and status event of a service's life, delivered again, twice each and newest first, under fresh
 * `Nats-Msg-Id`s (JetStream cannot de-duplicate them: this is what a redelivery or a publisher's retry looks like
 * to consumers), plus the same events re-published as they were (de-duplicated by eventId). Nothing a user can see
 * moves: no replica added or restarted, no history line, no status event from the provisioner, no status going
 * backwards for a GraphQL subscriber, predictions keep working.
 */
describe('the same intents and status events delivered twice and out of order', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let bus: EventBus;
  let watcher: StatusStream;
  const intents: ServiceIntentEvent[] = [];
  const statuses: ServiceStatusEvent[] = [];

  beforeAll(async () => {
    stack = await DistributedStack.start();
    api = new PlatformClient(stack.url, await stack.token({ sub: 'redelivery', workspaces: [WS] }));
    bus = await connectStackBus(stack);
    await bus.subscribe('service.intent', (event) => void intents.push(event));
    await bus.subscribe('service.status', (event) => void statuses.push(event));
    watcher = subscribeStatuses(stack.url, api.token, { workspaceId: WS });
    await watcher.connected;
  }, 90_000);

  afterAll(async () => {
    await watcher?.dispose();
    await bus?.close();
    await stack?.stop();
  }, 60_000);

  /** Nothing left for the provisioners to acknowledge: every intent on the stream was reconciled. */
  async function provisionerCaughtUp(): Promise<void> {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    try {
      const jsm = await nc.jetstreamManager();
      await waitFor(
        () => jsm.consumers.info(stack.streamName, 'provisioner__service_intent'),
        (info) => info.num_pending === 0 && info.num_ack_pending === 0,
        'the provisioners acknowledged every intent',
        20_000,
        100,
      );
    } finally {
      await nc.close();
    }
  }

  it('changes nothing a user can see', async () => {
    const modelId = await stack.registerColorModel(WS, api.token, 'v1');
    const created = (await api.expectOk(
      'POST',
      '/inference/services',
      { name: 'redelivered', workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas: 2 },
      201,
    )) as { service_id: string };
    const id = created.service_id;
    await api.waitRunning(id, 2, 60_000);
    await api.expectOk('PATCH', `/inference/services/${id}`, { replicas: 3 });
    await api.waitRunning(id, 3, 60_000);
    await provisionerCaughtUp();
    await waitFor(() => watcher.of(id).at(-1), (e) => e?.status === 'RUNNING' && e.readyReplicas === 3, 'the subscriber saw running 3/3', 10_000);

    const myIntents = intents.filter((e) => e.serviceId === id);
    const myStatuses = statuses.filter((e) => e.serviceId === id);
    expect(myIntents.map((e) => e.intent)).toEqual(['create', 'update']);
    expect(myStatuses.length).toBeGreaterThanOrEqual(2);
    const before = { detail: await api.detail(id), history: await api.events(id), pids: replicaPids(id) };
    expect(before.pids).toHaveLength(3);
    const seenByWatcher = watcher.of(id).length;
    const publishedBefore = new Set(statuses.map((e) => e.eventId));
    const census = new ReplicaCensus(() => id, 20).start();
    try {
      // Twice each, newest first, under fresh message ids; then once more as they were (same eventId).
      const newestFirst = <T>(events: T[]) => [...events].reverse().flatMap((e) => [e, e]);
      await republishRaw(stack, 'service.status', newestFirst(myStatuses));
      await republishRaw(stack, 'service.intent', newestFirst(myIntents));
      for (const event of myIntents) await bus.publish('service.intent', event);
      for (const event of myStatuses) await bus.publish('service.status', event);

      await provisionerCaughtUp();
      // The provisioner reconciled every redelivered intent and found nothing to do.
      await waitFor(
        () => stack.provisioners[0].logs().filter((l) => l.msg === 'reconciled' && l.serviceId === id && l.outcome === 'unchanged').length,
        (n) => n >= 2 * myIntents.length,
        'the redelivered intents reconciled',
        10_000,
      );
      // Give the fan-out to the gateway and the router (and the subscriber behind it) time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      census.sample();
    } finally {
      census.stop();
    }

    // No duplicate replica, none restarted.
    expect(census.maxAlive).toBe(3);
    expect(replicaPids(id)).toEqual(before.pids);
    // The record was not rewritten, and the history has no new line.
    const after = await api.detail(id);
    expect(after).toMatchObject({ status: 'running', replicas: 3, ready_replicas: 3, updated_at: before.detail.updated_at });
    expect(await api.events(id)).toEqual(before.history);
    // The provisioner published nothing new about it (what arrived since are the test's own replays).
    const fresh = statuses.filter((e) => e.serviceId === id && !publishedBefore.has(e.eventId));
    expect(fresh).toEqual([]);
    // Whatever reached the subscriber since never went backwards.
    const since = watcher.of(id).slice(seenByWatcher);
    expect(since.filter((e) => e.status !== 'RUNNING' || e.readyReplicas !== 3), JSON.stringify(since)).toEqual([]);
    expect(watcher.ended).toBeUndefined();
    // The router kept its table: predictions through the data plane and REST still land on a live replica.
    const image = await colorImage('green', 'png', 32, 32);
    for (const path of ['data-plane', 'rest'] as const) {
      for (let i = 0; i < 5; i++) {
        expect(predictionProblem(await predictVia(api, path, { id, endpointUrl: after.endpoint_url }, image), 'green'), path).toBeNull();
      }
    }
  }, 180_000);
});
