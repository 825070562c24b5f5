import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type EventBus } from '@remotegpu/bus';
import type { InferenceService } from '@remotegpu/core';
import { openSqliteStore, type SqliteStore } from '@remotegpu/store';
import { startNatsServer, type NatsServerProcess } from '@remotegpu/testkit';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictVia, waitFor } from '../support/client.js';
import { subscribeStatuses, type StatusStream } from '../support/ws.js';

const WS = 95;

/**
 * What a broker outage costs a gateway and a router (DESIGN §2.1: "after a reconnect each re-reads the store"):
 * a status change written while NATS is down, whose event is therefore never published, reaches the router's
 * table and the gateway's subscribers within moments of the reconnect, not at the next 30 s resync. The test
 * plays the provisioner (writes the store, publishes status events) on a private nats-server that it kills.
 */
describe('distributed: gateway and router after a NATS outage', () => {
  let nats: NatsServerProcess;
  let stack: DistributedStack;
  let store: SqliteStore;
  let bus: EventBus;
  let replica: Server;
  let api: PlatformClient;
  let service: InferenceService;
  let stream: StatusStream;

  const publishStatus = (s: InferenceService) =>
    bus.publish('service.status', {
      eventId: randomUUID(),
      serviceId: s.id,
      workspaceId: s.workspaceId,
      at: new Date().toISOString(),
      status: s.status,
      previousStatus: null,
      reason: null,
      message: null,
      readyReplicas: s.readyReplicas,
      replicas: s.replicas,
      endpoints: s.endpoints,
      generation: s.generation,
      version: s.version,
      deleted: false,
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await DistributedStack.start({ provisioners: 0, env: { NATS_URL: nats.url } });
    store = openSqliteStore({ path: path.join(stack.dataDir, 'rgpu.db') });
    bus = await connectBus({ natsUrl: nats.url, nats: { streamName: stack.streamName, subjectPrefix: stack.subjectPrefix, reconnectWaitMs: 100 } });
    replica = createServer((_req, res) => {
      const body = JSON.stringify({ code: 0, message: 'success', data: { predictions: [{ class: 'red', confidence: 1 }] } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', () => resolve()));
    api = new PlatformClient(stack.url, await stack.token({ sub: 'outage', workspaces: [WS] }));
    const modelId = await stack.registerColorModel(WS, api.token);
    const id = await api.createService({ name: 'outage', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    stream = subscribeStatuses(stack.url, api.token, { id });
    await stream.connected;
    // As a provisioner would: running with one ready replica, written and published.
    const created = (await store.services.get(id))!;
    const url = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
    service = await store.services.update(id, created.version, { status: 'running', readyReplicas: 1, endpoints: [{ replicaId: 'r1', url }] });
    // graphql-ws does not acknowledge a subscription: publish until it shows the event.
    await waitFor(
      async () => {
        await publishStatus(service);
        return stream.of(id).length;
      },
      (n) => n > 0,
      'the subscriber sees RUNNING',
      10_000,
      200,
    );
  }, 90_000);

  afterAll(async () => {
    await stream?.dispose();
    await bus?.close();
    await store?.close();
    await stack?.stop();
    await nats?.cleanup();
    await new Promise<void>((resolve) => (replica ? replica.close(() => resolve()) : resolve()));
  }, 60_000);

  it('serves, goes unready while NATS is down, and after the reconnect routes and reports what the store says', async () => {
    const image = await colorImage('red', 'png', 32, 32);
    const endpointUrl = `${stack.routers[0].url}/inference/${service.id}`;
    expect((await predictVia(api, 'data-plane', { id: service.id, endpointUrl }, image)).status).toBe(200);

    await nats.kill('SIGKILL');
    for (const proc of [stack.gateways[0], stack.routers[0]]) {
      await waitFor(() => fetch(`${proc.url}/readyz`).then((r) => r.status), (s) => s === 503, `${proc.name} unready without NATS`, 10_000, 50);
    }
    // Meanwhile the service is stopped: stored, but its event cannot be published.
    const stopped = await store.services.update(service.id, service.version, { status: 'stopped', desiredState: 'stopped', readyReplicas: 0, endpoints: [] });
    // The router still routes by its table (it cannot know yet), the gateway still answers from the store.
    expect((await predictVia(api, 'data-plane', { id: service.id, endpointUrl }, image)).status).toBe(200);

    await nats.start();
    for (const proc of [stack.gateways[0], stack.routers[0]]) {
      await waitFor(() => fetch(`${proc.url}/readyz`).then((r) => r.status), (s) => s === 200, `${proc.name} ready again`, 15_000, 50);
    }
    // Within moments of the reconnect, not at the next 30 s resync: the router refuses, the subscriber saw STOPPED.
    await waitFor(async () => (await predictVia(api, 'data-plane', { id: service.id, endpointUrl }, image)).code, (code) => code === 40900, 'the router refuses the stopped service', 5_000);
    await waitFor(() => stream.of(service.id).map((e) => e.status), (s) => s.at(-1) === 'STOPPED', 'the subscriber sees STOPPED', 5_000);
    expect(stream.of(service.id).at(-1)).toMatchObject({ status: 'STOPPED', readyReplicas: 0 });
    expect(stopped.version).toBeGreaterThan(service.version);
    expect(stack.routers[0].logs().some((l) => String(l.msg).includes('re-reading the routing table'))).toBe(true);
  }, 60_000);
});
