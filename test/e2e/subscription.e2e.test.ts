import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { PlatformClient, waitFor } from '../support/client.js';
import { distinctStatuses, subscribeStatuses, type StatusStream } from '../support/ws.js';

const WS_A = 41;
const WS_B = 42;

/**
 * Live status over graphql-ws, driven only through the public API: real services with real replicas in two
 * workspaces, changing at the same time. A subscriber sees its own service's lifecycle in order and nothing
 * of the other workspace.
 */
describe('GraphQL status subscription end to end (two workspaces)', () => {
  let p: TestPlatform;
  let a: PlatformClient;
  let b: PlatformClient;
  let admin: PlatformClient;
  const models = new Map<number, number>();
  const streams: StatusStream[] = [];
  let probes = 0;

  const open = (client: PlatformClient, variables?: { workspaceId?: number }) => {
    const stream = subscribeStatuses(p.url, client.token, variables);
    streams.push(stream);
    return stream;
  };
  const create = (client: PlatformClient, ws: number, name: string, extra: Record<string, unknown> = {}) =>
    client.createService({ name, workspace_id: ws, model_id: models.get(ws), model_version: 'v1', replicas: 1, ...extra });

  /**
   * graphql-ws does not acknowledge a subscription, so this proves it is in place the way a user could: it
   * creates a throwaway service that fails at once (a GPU this platform does not have) until the stream
   * shows one of its events. Every event published after that reaches the stream. Returns the probes' ids.
   */
  async function ready(stream: StatusStream, client: PlatformClient, ws: number): Promise<string[]> {
    await stream.connected;
    const ids: string[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const id = await create(client, ws, `probe-${++probes}`, { gpu: 1 });
      ids.push(id);
      try {
        await waitFor(() => stream.of(id).length, (n) => n > 0 || stream.ended !== undefined, `an event of probe ${id}`, 2_000, 10);
      } catch {
        // Sent before the subscription was in place: try another probe.
      }
      if (stream.ended !== undefined) throw new Error(`the subscription ended: ${JSON.stringify(stream.ended)}`);
      if (stream.of(id).length > 0) return ids;
      if (Date.now() > deadline) throw new Error('the subscription never became ready');
    }
  }

  beforeAll(async () => {
    p = await startTestPlatform({ env: { RGPU_LOCAL_GPUS: '0' } });
    a = new PlatformClient(p.url, await p.token({ sub: 'alice', workspaces: [WS_A] }));
    b = new PlatformClient(p.url, await p.token({ sub: 'bob', workspaces: [WS_B] }));
    admin = new PlatformClient(p.url, await p.token({ sub: 'root', admin: true }));
    models.set(WS_A, (await p.registerColorModel(WS_A, a.token, { name: 'sub-a', version: 'v1' })).modelId);
    models.set(WS_B, (await p.registerColorModel(WS_B, b.token, { name: 'sub-b', version: 'v1' })).modelId);
  });
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('streams CREATING → RUNNING → STOPPING → STOPPED for the token’s service and nothing of another workspace', async () => {
    const streamA = open(a);
    const streamB = open(b);
    const streamAdmin = open(admin);
    const probesA = await ready(streamA, a, WS_A);
    const probesB = await ready(streamB, b, WS_B);

    // Both workspaces change at the same time.
    const [svcA, svcB] = await Promise.all([create(a, WS_A, 'watched'), create(b, WS_B, 'neighbour')]);
    const statuses = (stream: StatusStream, id: string) => () => stream.of(id).map((e) => e.status);
    await waitFor(statuses(streamA, svcA), (s) => s.includes('RUNNING'), 'A sees its service running', 30_000, 10);
    await waitFor(statuses(streamB, svcB), (s) => s.includes('RUNNING'), 'B sees its service running', 30_000, 10);
    await Promise.all([a.expectOk('POST', `/inference/services/${svcA}/stop`), b.expectOk('POST', `/inference/services/${svcB}/stop`)]);
    await waitFor(statuses(streamA, svcA), (s) => s.includes('STOPPED'), 'A sees its service stopped', 30_000, 10);
    await waitFor(statuses(streamB, svcB), (s) => s.includes('STOPPED'), 'B sees its service stopped', 30_000, 10);
    // A last probe in each workspace: events are delivered in order, so once it arrives everything sent before
    // it has arrived too, and an event of the other workspace would be in the stream by now.
    probesA.push(...(await ready(streamA, a, WS_A)));
    probesB.push(...(await ready(streamB, b, WS_B)));

    for (const [stream, own, ownProbes, foreign] of [
      [streamA, svcA, probesA, [svcB, ...probesB]],
      [streamB, svcB, probesB, [svcA, ...probesA]],
    ] as const) {
      const events = stream.of(own);
      expect(distinctStatuses(events)).toEqual(['CREATING', 'RUNNING', 'STOPPING', 'STOPPED']);
      // Each change names the status it came from.
      for (let i = 1; i < events.length; i++) {
        if (events[i].status !== events[i - 1].status) expect(events[i].previousStatus, `event #${i}`).toBe(events[i - 1].status);
      }
      const running = events.find((e) => e.status === 'RUNNING')!;
      expect(running).toMatchObject({ replicas: 1, readyReplicas: 1 });
      expect(events.at(-1)).toMatchObject({ status: 'STOPPED', readyReplicas: 0 });
      // Every event it received is about its own workspace's services.
      expect(stream.events.filter((e) => foreign.includes(e.serviceId))).toEqual([]);
      // (a probe sent before the subscription was in place may be missing; nothing else may appear)
      expect(stream.events.map((e) => e.serviceId).filter((id) => id !== own && !ownProbes.includes(id))).toEqual([]);
      expect(stream.ended).toBeUndefined();
    }
    // An admin sees both workspaces.
    await waitFor(() => [svcA, svcB].map((id) => distinctStatuses(streamAdmin.of(id)).at(-1)), (s) => s.every((x) => x === 'STOPPED'), 'admin sees both stopped', 10_000, 10);
  }, 90_000);

  it('refuses a subscription to a workspace the token may not act in', async () => {
    const stream = open(a, { workspaceId: WS_B });
    await waitFor(() => stream.ended, (ended) => ended !== undefined, 'the subscription is refused', 5_000, 10);
    expect(JSON.stringify(stream.ended)).toMatch(/4403|40300/);
    expect(stream.events).toEqual([]);
  });
});
