import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { PredictionLoad } from '../support/load.js';

const WS = 91;

/**
 * Routers are stateless and any number may run (DESIGN §2.1): each builds its table from the store and follows
 * status events on its own. Two router processes serve every service; one is killed with SIGKILL under load and
 * the other keeps serving from its table, including changes made after the kill. The gateway's own router going
 * away turns REST and GraphQL predict into 503 with Retry-After, never a hang or a 500.
 */
describe('distributed data plane: two router processes', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let modelId: number;
  const services: { id: string; viaFirst: string; viaSecond: string }[] = [];

  const endpointsOf = (id: string) => ({
    id,
    viaFirst: `${stack.routers[0].url}/inference/${id}`,
    viaSecond: `${stack.routers[1].url}/inference/${id}`,
  });

  beforeAll(async () => {
    stack = await DistributedStack.start({ routers: 2 });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'routers', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token);
    for (const name of ['first', 'second']) {
      const id = await api.createService({ name, workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 2 });
      services.push(endpointsOf(id));
    }
    for (const s of services) await api.waitRunning(s.id, 2, 60_000);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('both routers serve every service', async () => {
    const image = await colorImage('blue', 'png', 40, 30);
    for (const s of services) {
      for (const endpointUrl of [s.viaFirst, s.viaSecond]) {
        const outcome = await predictVia(api, 'data-plane', { id: s.id, endpointUrl }, image);
        expect(predictionProblem(outcome, 'blue'), endpointUrl).toBeNull();
      }
    }
  }, 30_000);

  it('kill -9 of one router loses nothing: the other keeps serving every service, and what changes after', async () => {
    const survivorLoads = services.flatMap((s) => [
      new PredictionLoad({ client: api, service: { id: s.id, endpointUrl: s.viaFirst }, workers: 2, path: 'data-plane' }),
      // REST and GraphQL predict go gateway → first router over HTTP.
      new PredictionLoad({ client: api, service: { id: s.id, endpointUrl: s.viaFirst }, workers: 1, path: 'rest' }),
      new PredictionLoad({ client: api, service: { id: s.id, endpointUrl: s.viaFirst }, workers: 1, path: 'graphql' }),
    ]);
    const victimLoad = new PredictionLoad({ client: api, service: { id: services[0].id, endpointUrl: services[0].viaSecond }, workers: 2, path: 'data-plane' });
    await Promise.all([...survivorLoads, victimLoad].map((load) => load.start()));
    await Promise.all([...survivorLoads, victimLoad].map((load) => load.progress(10)));

    const victim = stack.routers[1];
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBeNull();
    await victimLoad.stop();
    await Promise.all(survivorLoads.map((load) => load.progress(10)));

    // After the kill: a scale-up and a new service reach the survivor's table by event.
    await api.expectOk('PATCH', `/inference/services/${services[1].id}`, { replicas: 3 });
    const late = endpointsOf(await api.createService({ name: 'after-the-kill', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 }));
    await api.waitRunning(services[1].id, 3, 60_000);
    await api.waitRunning(late.id, 1, 60_000);
    await Promise.all(survivorLoads.map((load) => load.progress(10)));
    const results = await Promise.all(survivorLoads.map((load) => load.stop()));
    for (const result of results) {
      expect(result.failures, JSON.stringify(result.failures.slice(0, 3))).toEqual([]);
      expect(result.ok).toBeGreaterThanOrEqual(20);
    }
    const image = await colorImage('green', 'jpeg', 48, 48);
    expect(predictionProblem(await predictVia(api, 'data-plane', { id: late.id, endpointUrl: late.viaFirst }, image), 'green')).toBeNull();
    // The survivor's metrics show the scaled service's third replica in rotation.
    const metrics = await (await fetch(`${stack.routers[0].url}/metrics`)).text();
    expect(metrics).toContain(services[1].id);
  }, 180_000);

  it('with the gateway’s router gone, REST and GraphQL predict say 503 with Retry-After at once', async () => {
    const router = stack.routers[0];
    router.child.kill('SIGKILL');
    await router.exited;
    const image = await colorImage('red', 'png', 32, 32);
    const started = Date.now();
    const rest = await fetch(`${stack.url}/api/v1/inference/services/${services[0].id}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'accept-language': 'en' },
      body: JSON.stringify({ inputs: { image } }),
    });
    expect(rest.status).toBe(503);
    expect(rest.headers.get('retry-after')).toBe('1');
    expect(await rest.json()).toEqual({ code: 50300, message: 'The inference router could not be reached; retry later' });
    const graphql = await predictVia(api, 'graphql', { id: services[0].id, endpointUrl: services[0].viaFirst }, image);
    expect({ status: graphql.status, code: graphql.code }).toEqual({ status: 503, code: 50300 });
    expect((graphql.raw as { errors: { extensions: Record<string, unknown> }[] }).errors[0].extensions).toMatchObject({ retryAfter: 1, reason: 'router_unreachable' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The rest of the API keeps working, and the gateway stays ready: only predict needs the router.
    expect((await api.detail(services[0].id)).status).toBe('running');
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
  }, 30_000);
});
