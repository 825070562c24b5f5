import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DistributedStack } from '../support/distributed-stack.js';
import { PlatformClient, waitFor } from '../support/client.js';
import { distinctStatuses, subscribeStatuses, type StatusStream } from '../support/ws.js';

const WS_A = 81;
const WS_B = 82;

/**
 * Live status over graphql-ws through gateway processes: the provisioner process publishes status events on NATS,
 * every gateway receives them all (a plain subscription each) and hands each subscriber its own workspace's. Two
 * gateways, subscribers on both: each sees every transition of its services, in order, and nothing of another
 * workspace.
 */
describe('distributed subscriptions: two gateway processes, two workspaces', () => {
  let stack: DistributedStack;
  const clients = new Map<number, PlatformClient>();
  const models = new Map<number, number>();
  const streams: StatusStream[] = [];
  let probes = 0;

  const open = (gateway: number, ws: number) => {
    const stream = subscribeStatuses(stack.gateways[gateway].url, clients.get(ws)!.token);
    streams.push(stream);
    return stream;
  };
  /** Each gateway is a client's way in: create through the one given (any gateway writes the same store). */
  const create = (ws: number, name: string, extra: Record<string, unknown> = {}, gateway = 0) =>
    new PlatformClient(stack.gateways[gateway].url, clients.get(ws)!.token).createService({
      name,
      workspace_id: ws,
      model_id: models.get(ws),
      model_version: 'v1',
      replicas: 1,
      ...extra,
    });

  /**
   * graphql-ws does not acknowledge a subscription: a throwaway service that fails at once (a GPU the machine does
   * not have) is created until the stream shows one of its events; everything published after that reaches it.
   */
  async function ready(stream: StatusStream, ws: number): Promise<string[]> {
    await stream.connected;
    const ids: string[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const id = await create(ws, `probe-${++probes}`, { gpu: 1 });
      ids.push(id);
      await waitFor(() => stream.of(id).length, (n) => n > 0 || stream.ended !== undefined, `an event of probe ${id}`, 2_000, 10).catch(() => undefined);
      if (stream.ended !== undefined) throw new Error(`the subscription ended: ${JSON.stringify(stream.ended)}`);
      if (stream.of(id).length > 0) return ids;
      if (Date.now() > deadline) throw new Error('the subscription never became ready');
    }
  }

  beforeAll(async () => {
    stack = await DistributedStack.start({ gateways: 2 });
    for (const ws of [WS_A, WS_B]) {
      const client = new PlatformClient(stack.url, await stack.token({ sub: `user-${ws}`, workspaces: [ws] }));
      clients.set(ws, client);
      models.set(ws, await stack.registerColorModel(ws, client.token));
    }
  }, 90_000);
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('each gateway delivers every transition of its subscribers’ services, in order, and nothing of another workspace', async () => {
    // A and B each watch through both gateways.
    const watchers = [
      { ws: WS_A, gateway: 0, stream: open(0, WS_A) },
      { ws: WS_A, gateway: 1, stream: open(1, WS_A) },
      { ws: WS_B, gateway: 0, stream: open(0, WS_B) },
      { ws: WS_B, gateway: 1, stream: open(1, WS_B) },
    ];
    const probeIds = new Map<number, string[]>([
      [WS_A, []],
      [WS_B, []],
    ]);
    for (const w of watchers) probeIds.get(w.ws)!.push(...(await ready(w.stream, w.ws)));

    // Both workspaces change at the same time, through different gateways.
    const [svcA, svcB] = await Promise.all([create(WS_A, 'watched-a', {}, 0), create(WS_B, 'watched-b', {}, 1)]);
    const own = new Map([
      [WS_A, svcA],
      [WS_B, svcB],
    ]);
    const apiOf = (ws: number) => clients.get(ws)!;
    const seesEverywhere = async (ws: number, status: string) => {
      for (const w of watchers.filter((x) => x.ws === ws)) {
        await waitFor(() => w.stream.of(own.get(ws)!).map((e) => e.status), (s) => s.includes(status), `gateway ${w.gateway} shows ${ws} ${status}`, 60_000, 10);
      }
    };
    await Promise.all([seesEverywhere(WS_A, 'RUNNING'), seesEverywhere(WS_B, 'RUNNING')]);
    await Promise.all([apiOf(WS_A).expectOk('POST', `/inference/services/${svcA}/stop`), apiOf(WS_B).expectOk('POST', `/inference/services/${svcB}/stop`)]);
    await Promise.all([seesEverywhere(WS_A, 'STOPPED'), seesEverywhere(WS_B, 'STOPPED')]);
    await apiOf(WS_A).expectOk('POST', `/inference/services/${svcA}/start`);
    await waitFor(
      () => watchers.filter((w) => w.ws === WS_A).map((w) => distinctStatuses(w.stream.of(svcA)).at(-1)),
      (last) => last.every((s) => s === 'RUNNING'),
      'A running again on both gateways',
      60_000,
      10,
    );
    // A last probe per watcher: events arrive in order, so once it is there everything before it is too.
    for (const w of watchers) probeIds.get(w.ws)!.push(...(await ready(w.stream, w.ws)));

    const expected = new Map([
      [WS_A, ['CREATING', 'RUNNING', 'STOPPING', 'STOPPED', 'CREATING', 'RUNNING']],
      [WS_B, ['CREATING', 'RUNNING', 'STOPPING', 'STOPPED']],
    ]);
    for (const w of watchers) {
      const mine = w.stream.of(own.get(w.ws)!);
      const label = `workspace ${w.ws} on gateway ${w.gateway}`;
      expect(distinctStatuses(mine), label).toEqual(expected.get(w.ws));
      for (let i = 1; i < mine.length; i++) {
        if (mine[i].status !== mine[i - 1].status) expect(mine[i].previousStatus, `${label} event #${i}`).toBe(mine[i - 1].status);
      }
      expect(mine.find((e) => e.status === 'RUNNING'), label).toMatchObject({ replicas: 1, readyReplicas: 1 });
      // Nothing but its own service and its own workspace's probes.
      const allowed = new Set([own.get(w.ws)!, ...probeIds.get(w.ws)!]);
      expect(w.stream.events.filter((e) => !allowed.has(e.serviceId)), label).toEqual([]);
      expect(w.stream.ended, label).toBeUndefined();
    }
    // Both gateways told their subscribers the same story.
    for (const ws of [WS_A, WS_B]) {
      const [first, second] = watchers.filter((w) => w.ws === ws).map((w) => distinctStatuses(w.stream.of(own.get(ws)!)));
      expect(second).toEqual(first);
    }
  }, 240_000);
});
