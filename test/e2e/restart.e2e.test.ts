import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@remotegpu/testkit';
import { spawnStandalone, type StandaloneProcess } from '../support/process.js';
import { colorImage, PlatformClient, PREDICT_PATHS, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { isRunning, replicaPids } from '../support/replicas.js';

const WS = 51;

/**
 * `npm start` as a real process on a data directory, stopped and started again the two ways an operator
 * meets: a clean SIGTERM and a crash (SIGKILL). Services that should run come back; stopped ones stay
 * stopped; no replica process outlives the platform that started it. The tests run in order.
 */
describe('standalone restart with running services (real processes)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let platform: StandaloneProcess | undefined;
  /** Every process this suite started, so that none outlives it whatever fails. */
  const spawned: StandaloneProcess[] = [];
  const spawn = async () => {
    const started = await spawnStandalone({ RGPU_DATA_DIR: dir.path });
    spawned.push(started);
    return started;
  };
  let token: string;
  let keeper: string;
  let sleeper: string;
  let modelId: number;
  let keeperPids: number[] = [];
  const before: { model?: unknown; keeperEvents?: unknown[]; sleeperEvents?: unknown[]; keeper?: Record<string, unknown> } = {};

  const start = async () => {
    expect(keeper, 'the first test created the services').toBeDefined();
    expect(platform, 'the previous platform process was stopped').toBeUndefined();
    platform = await spawn();
    return new PlatformClient(platform.url, token);
  };
  /** Every replica process of this suite's services. */
  const ourReplicas = () => [...replicaPids(keeper ?? ''), ...replicaPids(sleeper ?? '')];
  const predictsEverywhere = async (api: PlatformClient) => {
    const detail = await api.detail(keeper);
    for (const path of PREDICT_PATHS) {
      const outcome = await predictVia(api, path, { id: keeper, endpointUrl: detail.endpoint_url }, await colorImage('blue', 'jpeg', 120, 90));
      expect(predictionProblem(outcome, 'blue'), path).toBeNull();
    }
  };

  beforeAll(async () => {
    dir = await tempDir('rgpu-restart-');
  });
  afterAll(async () => {
    await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
    // Whatever a failed assertion left behind must not outlive the suite.
    for (const pid of ourReplicas()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await dir?.cleanup();
  });

  it('SIGTERM: exits 0 and leaves no model-server process behind', async () => {
    platform = await spawn();
    expect(platform.adminToken, platform.output()).toBeTruthy();
    token = platform.adminToken!;
    const api = new PlatformClient(platform.url, token);
    modelId = await api.createModel(WS, 'restart-colours');
    await api.uploadColorVersion(modelId, 'v1');
    keeper = await api.createService({ name: 'keeper', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 2 });
    sleeper = await api.createService({ name: 'sleeper', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    await api.waitRunning(keeper, 2, 30_000);
    await api.waitRunning(sleeper, 1, 30_000);
    await api.expectOk('POST', `/inference/services/${sleeper}/stop`);
    await api.waitForDetail(sleeper, (d) => d.status === 'stopped', 'stopped');
    await waitFor(() => replicaPids(sleeper), (pids) => pids.length === 0, 'the stopped service has no processes', 10_000);
    keeperPids = replicaPids(keeper);
    expect(keeperPids).toHaveLength(2);
    await predictsEverywhere(api);

    before.model = (await api.call('GET', `/models/${modelId}`)).body;
    before.keeper = await api.detail(keeper);
    before.keeperEvents = await api.events(keeper);
    before.sleeperEvents = await api.events(sleeper);

    const code = await platform.stop('SIGTERM');
    platform = undefined;
    expect(code).toBe(0);
    // Checked at once: a clean shutdown waits for its replicas, it does not leave them to die later.
    expect(ourReplicas()).toEqual([]);
    for (const pid of keeperPids) expect(isRunning(pid), `pid ${pid} still runs`).toBe(false);
  }, 90_000);

  it('starts again on the same data dir: the running service comes back with 2 ready replicas, the stopped one stays stopped', async () => {
    const api = await start();
    const detail = await api.waitRunning(keeper, 2, 30_000);
    const pids = await waitFor(() => replicaPids(keeper), (p) => p.length === 2, 'two replica processes', 10_000);
    expect(pids.filter((pid) => keeperPids.includes(pid))).toEqual([]);
    keeperPids = pids;
    await predictsEverywhere(api);

    expect(await api.detail(sleeper)).toMatchObject({ status: 'stopped', ready_replicas: 0 });
    expect(replicaPids(sleeper)).toEqual([]);

    // Nothing lost: the model and its version, the service's spec, both histories.
    expect((await api.call('GET', `/models/${modelId}`)).body).toEqual(before.model);
    const { status: _s, ready_replicas: _r, status_reason: _sr, status_message: _sm, updated_at: _u, endpoint_url: _e, replica_states: _rs, ...spec } = before.keeper!;
    expect(detail).toMatchObject(spec);
    expect(await api.events(sleeper)).toEqual(before.sleeperEvents);
    const keeperEvents = await api.events(keeper);
    expect(keeperEvents.slice(0, before.keeperEvents!.length)).toEqual(before.keeperEvents);
  }, 60_000);

  it('SIGKILL: the replicas exit on their own, and the next start brings the service back', async () => {
    expect(platform, 'the previous test left the platform running').toBeDefined();
    expect(replicaPids(keeper)).toHaveLength(2);
    const code = await platform!.stop('SIGKILL');
    platform = undefined;
    expect(code).toBeNull(); // killed, no exit code
    // Their stdin closed with the parent: each replica drains and exits without anyone killing it.
    await waitFor(() => ourReplicas(), (left) => left.length === 0, 'no orphan replica process', 5_000);
    for (const pid of keeperPids) expect(isRunning(pid), `pid ${pid} still runs`).toBe(false);

    const api = await start();
    await api.waitRunning(keeper, 2, 30_000);
    expect(await waitFor(() => replicaPids(keeper), (p) => p.length === 2, 'two replica processes', 10_000)).toHaveLength(2);
    await predictsEverywhere(api);
    expect((await api.detail(sleeper)).status).toBe('stopped');
    expect(replicaPids(sleeper)).toEqual([]);

    expect(await platform!.stop('SIGTERM')).toBe(0);
    platform = undefined;
    expect(ourReplicas()).toEqual([]);
  }, 60_000);

  it('SIGTERM still exits 0 when the reader of its output has gone (stdout a broken pipe)', async () => {
    // `npm start | tee log` whose tee died, or a log collector that went away: shutting down must not hang on
    // its last log lines. A platform with nothing to stop shuts down fastest, which is where it used to hang.
    const empty = await tempDir('rgpu-restart-pipe-');
    try {
      const started = await spawnStandalone({ RGPU_DATA_DIR: empty.path });
      spawned.push(started);
      started.child.stdout!.destroy();
      started.child.stderr!.destroy();
      const exit = await Promise.race([
        started.stop('SIGTERM'),
        new Promise<'still running 10 s after SIGTERM'>((resolve) => setTimeout(() => resolve('still running 10 s after SIGTERM'), 10_000)),
      ]);
      expect(exit).toBe(0);
    } finally {
      await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
      await empty.cleanup();
    }
  }, 30_000);
});
