import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerProcess } from '@remotegpu/testkit';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, waitFor, type ServiceDetail } from '../support/client.js';
import { subscribeStatuses, type StatusStream } from '../support/ws.js';

const WS = 97;

/**
 * Issue 7: restart the broker while 200 lifecycle operations are in flight. Three processes (gateway, router,
 * provisioner) on a private nats-server that is killed (SIGKILL, a crash) in the middle of the operations and
 * started again on the same port and store. Every operation must take effect exactly once as the user sees it:
 * each request answered 2xx, one service per create, final states matching what was asked, one history line per
 * request; a workspace subscriber sees every service's final status; nothing stays stuck.
 *
 * Most services ask for a GPU on a machine configured with none, so they fail at once without starting a
 * process (`gpu_request_exceeds_capacity`): that keeps 200 operations affordable on two cores while every one
 * of them still goes gateway → store → intent → provisioner → status event. Four services run real replicas.
 * The outage is kept short (about a second): a longer one makes the provisioner fence itself (stop its
 * replicas) by design, which is tested on its own in provisioner-takeover/leader-lease tests.
 */
describe('distributed: a broker restart with 200 operations in flight', () => {
  let nats: NatsServerProcess;
  let stack: DistributedStack;
  let api: PlatformClient;
  let stream: StatusStream;
  let modelId: number;

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await DistributedStack.start({ env: { NATS_URL: nats.url } });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'broker', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token);
    stream = subscribeStatuses(stack.url, api.token, { workspaceId: WS });
    await stream.connected;
  }, 90_000);

  afterAll(async () => {
    await stream?.dispose();
    await stack?.stop();
    await nats?.cleanup();
  });

  it('every operation takes effect exactly once, subscribers see every final status, nothing stays stuck', async () => {
    const ok = (res: { status: number; body: unknown }, want: number, what: string) => {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(want);
      return res;
    };
    const create = async (name: string, extra: Record<string, unknown>) =>
      ok(
        await api.call('POST', '/inference/services', {
          name,
          workspace_id: WS,
          model_id: modelId,
          model_version: 'v1',
          framework: 'pytorch',
          cpu: 1,
          memory: 536870912,
          replicas: 1,
          ...extra,
        }),
        201,
        `create ${name}`,
      ).body as { data: { service_id: string } };

    // Four real services first, running before the storm.
    const real = await Promise.all([0, 1, 2, 3].map(async (i) => (await create(`real-${i}`, { gpu: 0 })).data.service_id));
    await Promise.all(real.map((id) => api.waitRunning(id, 1, 60_000)));

    let operations = 0;
    const spans: { sent: number; answered: number }[] = [];
    const count = <T>(p: Promise<T>): Promise<T> => {
      const sent = Date.now();
      return p.then((v) => ((operations += 1), spans.push({ sent, answered: Date.now() }), v));
    };
    let brokerDown = { from: Infinity, to: -Infinity };

    // Wave 1: 60 creates (GPU services on a GPU-less machine: failed at once, no process).
    const gpuIds: string[] = [];
    const wave1 = Array.from({ length: 60 }, (_, i) =>
      count(create(`gpu-${i}`, { gpu: 1 })).then((r) => void gpuIds.push(r.data.service_id)),
    );
    // The broker dies while wave 1 is in flight and comes back about a second later.
    const outage = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await nats.kill('SIGKILL');
      brokerDown = { from: Date.now(), to: Infinity };
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await nats.start();
      brokerDown = { ...brokerDown, to: Date.now() };
    })();
    await Promise.all(wave1);

    // Wave 2, partly while the broker is still down: 60 stops, 30 description patches, 2 scale-ups and 2 stops
    // of real services; then wave 3: 30 deletes and 12 more patches.
    const sorted = [...gpuIds].sort();
    const wave2 = [
      ...sorted.map((id) => count(api.call('POST', `/inference/services/${id}/stop`)).then((r) => ok(r, 200, `stop ${id}`))),
      ...sorted.slice(0, 30).map((id) =>
        count(api.call('PATCH', `/inference/services/${id}`, { description: `patched ${id}` })).then((r) => ok(r, 200, `patch ${id}`)),
      ),
      ...real.slice(0, 2).map((id) => count(api.call('PATCH', `/inference/services/${id}`, { replicas: 2 })).then((r) => ok(r, 200, `scale ${id}`))),
      ...real.slice(2).map((id) => count(api.call('POST', `/inference/services/${id}/stop`)).then((r) => ok(r, 200, `stop ${id}`))),
    ];
    await Promise.all(wave2);
    await outage;
    const deleted = sorted.slice(30);
    const wave3 = [
      ...deleted.map((id) => count(api.call('DELETE', `/inference/services/${id}`)).then((r) => ok(r, 204, `delete ${id}`))),
      ...sorted.slice(0, 12).map((id) =>
        count(api.call('PATCH', `/inference/services/${id}`, { description: `again ${id}` })).then((r) => ok(r, 200, `patch ${id}`)),
      ),
    ];
    await Promise.all(wave3);
    expect(operations).toBe(60 + 60 + 30 + 4 + 30 + 12);
    const total = operations + real.length; // the four creates before the storm
    expect(total).toBe(200);
    // The outage really overlapped the operations: some were in flight while no broker ran.
    const inFlight = spans.filter((s) => s.sent <= brokerDown.to && s.answered >= brokerDown.from).length;
    expect(inFlight, `in flight during the outage ${JSON.stringify(brokerDown)}`).toBeGreaterThan(0);
    const slowest = Math.max(...spans.map((s) => s.answered - s.sent));
    console.info(`broker restart: ${inFlight} of ${operations} operations in flight during the ${brokerDown.to - brokerDown.from} ms outage; slowest answer ${slowest} ms`);

    // Exactly once: one service per create (the list holds the 34 survivors: 30 GPU services + 4 real ones).
    const list = await api.expectOk('GET', `/inference/services?workspace_id=${WS}&page_size=100`);
    expect(list.pagination.total).toBe(34);
    expect(new Set(list.items.map((s: { name: string }) => s.name)).size).toBe(34);

    // Final states, reached without anyone nudging (nothing stuck): the provisioner resyncs every 2 s here.
    const settled = (d: ServiceDetail, want: { status: string; ready?: number; replicas?: number }) =>
      d.status === want.status && (want.ready === undefined || d.ready_replicas === want.ready) && (want.replicas === undefined || d.replicas === want.replicas);
    const expected = new Map<string, { status: string; ready?: number; replicas?: number; description?: string }>();
    for (const id of sorted.slice(0, 12)) expected.set(id, { status: 'stopped', description: `again ${id}` });
    for (const id of sorted.slice(12, 30)) expected.set(id, { status: 'stopped', description: `patched ${id}` });
    for (const id of real.slice(0, 2)) expected.set(id, { status: 'running', ready: 2, replicas: 2 });
    for (const id of real.slice(2)) expected.set(id, { status: 'stopped', ready: 0 });
    await Promise.all(
      [...expected].map(([id, want]) => api.waitForDetail(id, (d) => settled(d, want), `settles ${want.status}`, 60_000)),
    );
    for (const [id, want] of expected) {
      const d = await api.detail(id);
      if (want.description) expect(d.description).toBe(want.description);
      // One history line per request, whatever the broker did: no intent applied twice.
      const history = await api.events(id);
      const requested = history.filter((e) => e.type !== 'status_changed').map((e) => e.type);
      if (sorted.includes(id)) {
        const patches = sorted.slice(0, 12).includes(id) ? 2 : 1;
        expect(requested.sort()).toEqual(['created', 'stop_requested', ...Array<string>(patches).fill('updated')].sort());
      }
    }
    for (const id of deleted) expect((await api.call('GET', `/inference/services/${id}`)).status).toBe(404);

    // The subscriber saw every surviving service's final status (the last event it holds for each).
    await waitFor(
      async () =>
        [...expected].every(([id, want]) => {
          const last = stream.of(id).at(-1);
          return last !== undefined && last.status === want.status.toUpperCase() && (want.ready === undefined || last.readyReplicas === want.ready);
        }),
      (done) => done,
      'the subscriber holds every final status',
      30_000,
      200,
    );

    // The data plane still serves the scaled services.
    const red = await colorImage('red', 'png', 8, 8);
    for (const id of real.slice(0, 2)) {
      const d = await api.detail(id);
      const res = await api.fetchJson(`${d.endpoint_url}/predict`, 'POST', { inputs: { image: red } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }, 240_000);
});
