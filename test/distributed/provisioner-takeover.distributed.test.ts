import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedStack } from '../support/distributed-stack.js';
import { PlatformClient, waitFor } from '../support/client.js';
import { listReplicaProcesses } from '../support/replicas.js';
import { becameLeaderLines, provisionerRoles, readinessOf, ReplicaCensus } from '../support/provisioner-process.js';

const WS = 72;

/**
 * Two provisioner processes on one SQLite file and one NATS server, with the production lease timing (TTL 8 s,
 * renewal every 2 s). The leader is killed with SIGKILL while it is bringing a service up: its replicas die with
 * it, the standby takes the lease within 15 s, and the service ends `running` with exactly the replicas asked for,
 * all children of the new leader, and never more than that alive at any moment.
 */
describe('provisioner leader killed with -9 in the middle of a create', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let modelId: number;

  beforeAll(async () => {
    stack = await DistributedStack.start({ provisioners: 2 });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'takeover', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token, 'v1');
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('exactly one provisioner leads; the other stands by and is ready too', async () => {
    const { leaders, standbys } = await provisionerRoles(stack);
    expect(leaders).toHaveLength(1);
    expect(standbys).toHaveLength(1);
    expect(await readinessOf(standbys[0])).toMatchObject({ status: 'ready', role: 'standby', checks: { nats: true, store: true } });
    expect(becameLeaderLines(standbys[0])).toEqual([]);
  });

  it('the standby takes over within 15 s; the service ends running with exactly 2 replicas and no orphan', async () => {
    const { leaders, standbys } = await provisionerRoles(stack);
    const [leader, standby] = [leaders[0], standbys[0]];
    let id: string | undefined;
    const census = new ReplicaCensus(() => id, 20).start();
    try {
      const res = await fetch(`${stack.url}/api/v1/inference/services`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'x-request-id': 'takeover-create' },
        body: JSON.stringify({ name: 'takeover', workspace_id: WS, model_id: modelId, model_version: 'v1', framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, replicas: 2 }),
      });
      expect(res.status).toBe(201);
      id = ((await res.json()) as { data: { service_id: string } }).data.service_id;

      // In the middle of the create: the leader has started replica processes, the service is not running yet.
      await waitFor(
        () => listReplicaProcesses().filter((p) => p.serviceId === id && p.ppid === leader.pid).length,
        (n) => n >= 1,
        'the leader started a replica',
        30_000,
        10,
      );
      const before = await api.call('GET', `/inference/services/${id}`);
      expect(before.body.data.status).toBe('creating');
      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      await leader.exited;

      const [took] = await waitFor(() => becameLeaderLines(standby), (lines) => lines.length > 0, 'the standby became leader', 15_000, 20);
      const takeoverMs = Date.parse(took.at) - killedAt;
      expect(takeoverMs).toBeLessThan(15_000);
      expect(took.previousHolder).toMatch(new RegExp(`:${leader.pid}:`));

      await api.waitRunning(id, 2, 60_000);
      const replicas = listReplicaProcesses().filter((p) => p.serviceId === id);
      expect(replicas).toHaveLength(2);
      expect(replicas.map((p) => p.ppid)).toEqual([standby.pid, standby.pid]);
      // Nothing of the dead leader still runs, under it or reparented to anyone else.
      await waitFor(() => listReplicaProcesses().filter((p) => p.serviceId === id && p.ppid !== standby.pid), (rest) => rest.length === 0, 'no orphan replica', 10_000);
      census.sample();
      expect(census.maxAlive, 'replica processes of the service alive at once').toBeLessThanOrEqual(2);
      expect(await readinessOf(standby)).toMatchObject({ role: 'leader', status: 'ready' });

      // The history shows one way up, no status written twice by the two leaders.
      const changes = (await api.events(id)).filter((e) => e.type === 'status_changed').map((e) => e.status);
      expect(changes.filter((s) => s === 'running')).toHaveLength(1);
      process.stdout.write(`[takeover] kill -9 → standby became leader in ${takeoverMs} ms; running with 2 replicas ${Date.now() - killedAt} ms after the kill\n`);
    } finally {
      census.stop();
    }
  }, 120_000);
});
