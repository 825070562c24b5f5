import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newServiceId, type ServiceStatus, type ServiceStatusEvent } from '@remotegpu/core';
import { expiredToken, signToken, tokenWithoutExpiry, unsignedToken } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { STATUS_FIELDS, subscribeStatus, waitUntil, wsClient, type StatusSubscription, type WsClient } from './ws-client.js';

const ALICE_WS = 456;
const BOB_WS = 789;
const PROBE = 'probe';

/**
 * Status events are published on the platform's bus directly: the provisioner that will publish them is built
 * separately, and these tests are about the gateway's fan-out, auth and filtering. The service ids are fresh and
 * exist in no store, so nothing else on the platform publishes for them.
 */
describe('GraphQL subscription inferenceServiceStatusChanged (graphql-ws)', () => {
  let p: TestPlatform;
  const clients: WsClient[] = [];
  let serial = 0;

  const connect = (opts: Parameters<typeof wsClient>[1]) => {
    const c = wsClient(p.url, opts);
    clients.push(c);
    return c;
  };

  /** Publishes one status event; `message` is unique, so tests can tell events apart by it. */
  async function publish(serviceId: string, workspaceId: number, status: ServiceStatus, overrides: Partial<ServiceStatusEvent> = {}) {
    const message = `event-${++serial}`;
    await p.platform.bus.publish('service.status', {
      eventId: crypto.randomUUID(),
      serviceId,
      workspaceId,
      at: new Date().toISOString(),
      status,
      previousStatus: null,
      reason: null,
      message,
      readyReplicas: 0,
      replicas: 1,
      version: serial, // grows with every publish: each event is newer than the last (DESIGN §2.1)
      endpoints: [],
      generation: 1,
      deleted: false,
      ...overrides,
    });
    return message;
  }

  /**
   * The protocol does not acknowledge a subscription, so this publishes probes the subscription can see until
   * one arrives: from then on the server-side subscription is in place and every later event must reach it.
   */
  async function ready(sub: StatusSubscription, serviceId: string, workspaceId: number) {
    const deadline = Date.now() + 5_000;
    while (!sub.events.some((e) => e.reason === PROBE)) {
      if (sub.ended || Date.now() > deadline) throw new Error(`the subscription never became ready: ${JSON.stringify(sub.ended ?? sub.errors)}`);
      await publish(serviceId, workspaceId, 'creating', { reason: PROBE });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const messages = (sub: StatusSubscription) => sub.events.filter((e) => e.reason !== PROBE).map((e) => e.message);
  const has = (sub: StatusSubscription, message: string) => () => sub.events.some((e) => e.message === message);

  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('streams the status changes of a service in the token’s workspace, in order, with every field', async () => {
    const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
    const service = newServiceId();
    const sub = subscribeStatus(alice.client);
    await ready(sub, service, ALICE_WS);
    const steps: [ServiceStatus, ServiceStatus | null, number][] = [
      ['creating', null, 0],
      ['running', 'creating', 2],
      ['stopping', 'running', 2],
      ['stopped', 'stopping', 0],
    ];
    const sent: string[] = [];
    for (const [status, previousStatus, readyReplicas] of steps) {
      sent.push(await publish(service, ALICE_WS, status, { previousStatus, readyReplicas, replicas: 2, reason: status === 'running' ? 'replicas_ready' : null }));
    }
    await waitUntil(has(sub, sent[3]), 'the last event arrived');
    const received = sub.events.filter((e) => e.reason !== PROBE);
    expect(received.map((e) => [e.status, e.previousStatus, e.readyReplicas])).toEqual([
      ['CREATING', null, 0],
      ['RUNNING', 'CREATING', 2],
      ['STOPPING', 'RUNNING', 2],
      ['STOPPED', 'STOPPING', 0],
    ]);
    expect(received[1]).toEqual({
      serviceId: service,
      status: 'RUNNING',
      previousStatus: 'CREATING',
      reason: 'replicas_ready',
      message: sent[1],
      readyReplicas: 2,
      replicas: 2,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(sub.errors).toEqual([]);
  });

  it('words the message from reason and params in the socket’s language (Accept-Language of the upgrade), Chinese by default', async () => {
    const token = await p.token({ sub: 'alice', workspaces: [ALICE_WS] });
    const service = newServiceId();
    const english = subscribeStatus(connect({ token, language: 'en' }).client, { id: service });
    const chinese = subscribeStatus(connect({ token }).client, { id: service });
    await ready(english, service, ALICE_WS);
    await ready(chinese, service, ALICE_WS);
    const params = { waiting: 1, gpus: 2, free: 0, total: 1 };
    await publish(service, ALICE_WS, 'creating', { reason: 'insufficient_gpu', params, message: 'stored English text' });
    const worded = (sub: StatusSubscription) => () => sub.events.some((e) => e.reason === 'insufficient_gpu');
    await waitUntil(worded(english), 'the English subscriber got the event');
    await waitUntil(worded(chinese), 'the Chinese subscriber got the event');
    expect(english.events.find((e) => e.reason === 'insufficient_gpu')!.message).toBe('1 replica(s) waiting for 2 free GPUs each; 0 of the 1 GPUs of this machine are free');
    expect(chinese.events.find((e) => e.reason === 'insufficient_gpu')!.message).toBe('1 个副本正在等待各 2 个空闲 GPU；本机 1 个 GPU 中有 0 个空闲');
  });

  it('shows nothing of another workspace’s services', async () => {
    const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
    const bob = connect({ token: await p.token({ sub: 'bob', workspaces: [BOB_WS] }) });
    const aliceService = newServiceId();
    const bobService = newServiceId();
    const aliceSub = subscribeStatus(alice.client);
    const bobSub = subscribeStatus(bob.client);
    await ready(aliceSub, aliceService, ALICE_WS);
    await ready(bobSub, bobService, BOB_WS);

    const forAlice = await publish(aliceService, ALICE_WS, 'running');
    const forBob = await publish(bobService, BOB_WS, 'running');
    const laterForAlice = await publish(aliceService, ALICE_WS, 'stopping');
    // Each subscriber's events keep publish order, so once its own later event is in, a leaked one would be too.
    await waitUntil(has(bobSub, forBob), 'bob got his event');
    await waitUntil(has(aliceSub, laterForAlice), 'alice got her later event');
    expect(messages(aliceSub)).toEqual([forAlice, laterForAlice]);
    expect(messages(bobSub)).toEqual([forBob]);
  });

  it('lets an admin see every workspace, or one named with workspaceId', async () => {
    const admin = connect({ token: await p.token({ sub: 'root', admin: true }) });
    const everything = subscribeStatus(admin.client);
    const onlyBob = subscribeStatus(admin.client, { workspaceId: BOB_WS });
    const bobService = newServiceId();
    await ready(everything, bobService, BOB_WS);
    await ready(onlyBob, bobService, BOB_WS);

    const inAlice = await publish(newServiceId(), ALICE_WS, 'running');
    const inOther = await publish(newServiceId(), 31337, 'failed', { reason: 'image_pull' });
    const inBob = await publish(bobService, BOB_WS, 'running');
    await waitUntil(has(everything, inBob), 'the unfiltered subscription got the last event');
    await waitUntil(has(onlyBob, inBob), 'the workspace subscription got its event');
    expect(messages(everything)).toEqual([inAlice, inOther, inBob]);
    expect(messages(onlyBob)).toEqual([inBob]);
  });

  it('filters by service with id, and by one of the token’s workspaces with workspaceId', async () => {
    const carol = connect({ token: await p.token({ sub: 'carol', workspaces: [ALICE_WS, BOB_WS] }) });
    const wanted = newServiceId();
    const sibling = newServiceId();
    const byId = subscribeStatus(carol.client, { id: wanted });
    const byWorkspace = subscribeStatus(carol.client, { workspaceId: BOB_WS });
    const both = subscribeStatus(carol.client);
    await ready(byId, wanted, ALICE_WS);
    await ready(byWorkspace, newServiceId(), BOB_WS);
    await ready(both, sibling, ALICE_WS);

    const siblingEvent = await publish(sibling, ALICE_WS, 'running');
    const bobEvent = await publish(newServiceId(), BOB_WS, 'running');
    const wantedEvent = await publish(wanted, ALICE_WS, 'running');
    await waitUntil(has(byId, wantedEvent), 'the id subscription got its service’s event');
    await waitUntil(has(byWorkspace, bobEvent), 'the workspace subscription got its event');
    await waitUntil(has(both, wantedEvent), 'the unfiltered subscription got the last event');
    expect(messages(byId)).toEqual([wantedEvent]);
    expect(byId.events.every((e) => e.serviceId === wanted)).toBe(true);
    expect(messages(byWorkspace)).toEqual([bobEvent]);
    expect(messages(both)).toEqual([siblingEvent, bobEvent, wantedEvent]);
  });

  it('never yields for an id of another workspace’s service', async () => {
    const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
    const bobService = newServiceId();
    const probeService = newServiceId();
    const spying = subscribeStatus(alice.client, { id: bobService });
    const own = subscribeStatus(alice.client, { id: probeService });
    await ready(own, probeService, ALICE_WS);
    const secret = await publish(bobService, BOB_WS, 'running');
    // Once an event published after the secret one reached the same connection, the secret one would have too.
    const after = await publish(probeService, ALICE_WS, 'running');
    await waitUntil(has(own, after), 'the later event arrived');
    expect(spying.events.map((e) => e.message)).not.toContain(secret);
    expect(spying.events).toEqual([]);
    expect(spying.ended).toBeUndefined();
  });

  it('forgets subscriptions when they complete or their socket closes', async () => {
    const active = async () => {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      return Number(/^graphql_subscriptions_active (\d+)$/m.exec(text)?.[1]);
    };
    let count = NaN;
    const until = async (expected: number, what: string) => {
      const deadline = Date.now() + 5_000;
      while ((count = await active()) !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(count, what).toBe(expected);
    };
    await until(0, 'earlier tests’ subscriptions are gone');
    const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
    const service = newServiceId();
    const first = subscribeStatus(alice.client, { id: service });
    const second = subscribeStatus(alice.client);
    await ready(first, service, ALICE_WS);
    await ready(second, service, ALICE_WS);
    await until(2, 'both subscriptions are open');
    first.unsubscribe();
    await until(1, 'the completed subscription is gone');
    await alice.dispose();
    await until(0, 'the closed socket’s subscription is gone');
  });

  describe('authentication (connection_init payload)', () => {
    it('closes with 4401 without a token, with a bad one and with a malformed payload', async () => {
      const claims = { sub: 'mallory', workspaces: [ALICE_WS] };
      const refused: Parameters<typeof wsClient>[1][] = [
        {},
        { connectionParams: { authorization: '' } },
        { connectionParams: { authorization: 'Bearer not-a-jwt' } },
        { token: await signToken('another-secret-0123456789-abcdefghijklmnop', claims) },
        { token: unsignedToken(claims) },
        { token: await expiredToken(p.secret, claims) },
        { token: await tokenWithoutExpiry(p.secret, claims) },
        { connectionParams: { authorization: await p.token(claims) } }, // no "Bearer "
        { connectionParams: { authorization: 42 } },
      ];
      for (const opts of refused) {
        const c = connect(opts);
        const sub = subscribeStatus(c.client);
        const closed = await c.closed;
        expect(closed.code, JSON.stringify(opts)).toBe(4401);
        expect(sub.events).toEqual([]);
      }
    });

    it('explains the refusal in the close reason, in the upgrade request’s language', async () => {
      const en = connect({ language: 'en' });
      subscribeStatus(en.client);
      expect(await en.closed).toEqual({ code: 4401, reason: expect.stringMatching(/access token.*connection_init/i) });
      const zh = connect({ token: 'x.y.z' });
      subscribeStatus(zh.client);
      expect(await zh.closed).toEqual({ code: 4401, reason: expect.stringContaining('访问令牌') });
      expect(Buffer.byteLength((await zh.closed).reason)).toBeLessThanOrEqual(123);
    });

    it('closes with 4403 when the subscription names a workspace the token may not act in', async () => {
      const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }), language: 'en' });
      const sub = subscribeStatus(alice.client, { workspaceId: BOB_WS });
      expect(await alice.closed).toEqual({ code: 4403, reason: `This token may not act in workspace ${BOB_WS}` });
      expect(sub.events).toEqual([]);
    });

    it('closes the socket with 4403 when its token expires, and delivers nothing after', async () => {
      const token = await signToken(p.secret, { sub: 'alice', workspaces: [ALICE_WS] }, { expiresInSeconds: 3 });
      const expiresAt = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
      const alice = connect({ token, language: 'en' });
      const service = newServiceId();
      const sub = subscribeStatus(alice.client, { id: service });
      await ready(sub, service, ALICE_WS);
      const beforeExpiry = await publish(service, ALICE_WS, 'running');
      await waitUntil(has(sub, beforeExpiry), 'an event published before the expiry arrived');

      const closed = await Promise.race([alice.closed, new Promise((resolve) => setTimeout(() => resolve('still open'), expiresAt - Date.now() + 5_000))]);
      const closedAt = Date.now();
      expect(closed).toEqual({ code: 4403, reason: 'The access token expired, so the connection was closed: connect again with a new token' });
      expect(closedAt).toBeGreaterThanOrEqual(expiresAt - 50); // not before exp (timers may fire a few ms early)
      const receivedBeforeClose = sub.events.length;

      // A subscriber with a fresh token sees the next event; the expired one, by then, would have too.
      const bob = connect({ token: await p.token({ sub: 'bob', workspaces: [ALICE_WS] }) });
      const watcher = subscribeStatus(bob.client, { id: service });
      await ready(watcher, service, ALICE_WS);
      const afterExpiry = await publish(service, ALICE_WS, 'stopping');
      await waitUntil(has(watcher, afterExpiry), 'the fresh subscriber got the later event');
      expect(sub.events.length).toBe(receivedBeforeClose);
      expect(sub.events.map((e) => e.message)).not.toContain(afterExpiry);
    });

    it('keeps a socket open whose token expires later than a timer can wait (the 30-day admin token)', async () => {
      // setTimeout fires at once past 2^31 − 1 ms (24.8 days); the expiry timer must not.
      const admin = connect({ token: await signToken(p.secret, { sub: 'root', admin: true }, { expiresInSeconds: 30 * 86400 }) });
      const service = newServiceId();
      const sub = subscribeStatus(admin.client, { id: service });
      await ready(sub, service, ALICE_WS);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const event = await publish(service, ALICE_WS, 'running');
      await waitUntil(has(sub, event), 'the event arrived');
      expect(sub.ended).toBeUndefined();
    });

    it('accepts a token that holds no workspace, and shows it nothing', async () => {
      const nobody = connect({ token: await p.token({ sub: 'nobody', workspaces: [] }) });
      const sub = subscribeStatus(nobody.client);
      const alice = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
      const aliceSub = subscribeStatus(alice.client);
      await ready(aliceSub, newServiceId(), ALICE_WS);
      const event = await publish(newServiceId(), ALICE_WS, 'running');
      await waitUntil(has(aliceSub, event), 'alice got the event');
      expect(sub.events).toEqual([]);
      expect(sub.ended).toBeUndefined();
    });
  });

  describe('documents', () => {
    const refusal = async (query: string, variables: Record<string, unknown> = {}) => {
      const c = connect({ token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }), language: 'en' });
      const sub = subscribeStatus(c.client, variables, query);
      await waitUntil(() => sub.ended !== undefined, 'the operation was refused');
      return sub.errors;
    };

    it('refuses queries and mutations: they go over HTTP', async () => {
      for (const query of ['{ __typename }', 'mutation { deleteInferenceService(id: "svc-abcdefghij") }']) {
        expect(await refusal(query)).toEqual([
          { message: expect.stringMatching(/subscriptions only/), locations: expect.any(Array), extensions: { code: 40000, status: 400 } },
        ]);
      }
    });

    it('answers invalid documents and variables with 40000 errors, as over HTTP', async () => {
      const [syntax] = await refusal('subscription {');
      expect(syntax).toMatchObject({ message: expect.stringMatching(/Syntax Error/), extensions: { code: 40000, status: 400 } });
      const [unknownField] = await refusal('subscription { inferenceServiceStatusChanged { nope } }');
      expect(unknownField).toMatchObject({ message: expect.stringMatching(/Cannot query field "nope"/), extensions: { code: 40000, status: 400 } });
      const [badVariable] = await refusal(`subscription($w: Int) { inferenceServiceStatusChanged(workspaceId: $w) { ${STATUS_FIELDS} } }`, { w: 'x' });
      expect(badVariable).toMatchObject({ message: expect.stringMatching(/\$w/), extensions: { code: 40000, status: 400 } });
    });
  });
});

describe('GraphQL subscription limits and shutdown', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ env: { RGPU_GRAPHQL_MAX_DEPTH: '1', RGPU_GRAPHQL_INTROSPECTION: 'false' } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('applies the depth limit to subscription documents and hides schema suggestions without introspection', async () => {
    const c = wsClient(p.url, { token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }), language: 'en' });
    const deep = subscribeStatus(c.client);
    await waitUntil(() => deep.ended !== undefined, 'the deep document was refused');
    expect(deep.errors).toEqual([
      { message: expect.stringMatching(/nested 2 levels deep; the limit is 1/), locations: expect.any(Array), extensions: { code: 40000, status: 400, reason: 'depth_limit' } },
    ]);
    const typo = subscribeStatus(c.client, {}, 'subscription { inferenceServiceStatusChange }');
    await waitUntil(() => typo.ended !== undefined, 'the misspelt document was refused');
    expect(typo.errors[0].message).toMatch(/Cannot query field "inferenceServiceStatusChange"/);
    expect(typo.errors[0].message).not.toMatch(/Did you mean/);
    await c.dispose();
  });

  it('closes open sockets with 1001 when the platform stops, without waiting for clients', async () => {
    const c = wsClient(p.url, { token: await p.token({ sub: 'alice', workspaces: [ALICE_WS] }) });
    await new Promise<void>((resolve, reject) => {
      c.client.on('connected', () => resolve());
      c.client.on('closed', () => reject(new Error('closed before connecting')));
      subscribeStatus(c.client, {}, 'subscription { inferenceServiceStatusChanged { status } }');
    });
    const started = Date.now();
    await p.stop();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await c.closed).code).toBe(1001);
    await c.dispose();
  });
});
