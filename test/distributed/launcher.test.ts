import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { NATS_URL, tempDir, type TempDir } from '@remotegpu/testkit';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { isRunning, listReplicaProcesses, replicaPids } from '../support/replicas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WS = 97;

/**
 * `npm run start:distributed` as a user runs it (the built launcher, scripts/distributed.mjs): three processes on
 * the local NATS, an admin token and the URLs printed, every log line prefixed with its process, and Ctrl-C to
 * the terminal's process group stops them all, replicas included.
 */
describe('npm run start:distributed (the one-command local try)', () => {
  const run = randomBytes(4).toString('hex');
  const names = { RGPU_NATS_STREAM: `RGPU_T_L${run}`, RGPU_NATS_SUBJECT_PREFIX: `rgput.l${run}`, PROVISIONER_LEASE_BUCKET: `rgpu_t_lease_l${run}` };
  let dir: TempDir;
  let launcher: ChildProcess;
  let out = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    dir = await tempDir('rgpu-launcher-');
    launcher = spawn(process.execPath, [path.join(ROOT, 'scripts/distributed.mjs')], {
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? '', NATS_URL, PORT: '0', ROUTER_PORT: '0', PROVISIONER_PORT: '0', RGPU_DATA_DIR: dir.path, RGPU_LOCAL_GPUS: '0', ...names },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, as a terminal gives a foreground job: Ctrl-C reaches the launcher and its children.
      detached: true,
    });
    launcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
    await waitFor(() => out, (text) => /Ctrl-C stops all three/.test(text) || launcher.exitCode !== null, 'the launcher is up', 60_000, 50);
  }, 90_000);

  afterAll(async () => {
    if (launcher?.exitCode === null) process.kill(-launcher.pid!, 'SIGKILL');
    const nc = await connect({ servers: NATS_URL, timeout: 2_000 }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(names.RGPU_NATS_STREAM).catch(() => undefined);
      await jsm.streams.delete(`KV_${names.PROVISIONER_LEASE_BUCKET}`).catch(() => undefined);
      await nc.close();
    }
    await dir?.cleanup();
  }, 60_000);

  const pidsOf = (name: string): number[] => [...out.matchAll(new RegExp(`\\[${name}\\]\\s+\\{[^\\n]*?"pid":(\\d+)`, 'g'))].map((m) => Number(m[1]));

  it('starts the three processes, prints the URLs and an admin token, and the platform works end to end', async () => {
    expect(out, out).toMatch(/Ctrl-C stops all three/);
    const gatewayUrl = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    const routerUrl = /router\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    const token = /Admin token[^\n]*\n\n\s+(\S+)/.exec(out)![1];
    for (const name of ['provisioner', 'router', 'gateway']) expect(pidsOf(name).length, `${name} logs, prefixed`).toBeGreaterThan(0);

    const admin = new PlatformClient(gatewayUrl, token);
    const modelId = await admin.createModel(WS, `launcher-${run}`);
    await admin.uploadColorVersion(modelId, 'v1');
    const id = await admin.createService({ name: 'launcher', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    const detail = await admin.waitRunning(id, 1, 60_000);
    expect(detail.endpoint_url).toBe(`${routerUrl}/inference/${id}`);
    const image = await colorImage('green', 'png', 32, 32);
    for (const via of ['rest', 'data-plane', 'graphql'] as const) {
      expect(predictionProblem(await predictVia(admin, via, { id, endpointUrl: detail.endpoint_url }, image), 'green'), via).toBeNull();
    }
    expect(replicaPids(id)).toHaveLength(1);
  }, 90_000);

  it('Ctrl-C stops all three and their replicas, and exits 0', async () => {
    const children = ['provisioner', 'router', 'gateway'].map((name) => pidsOf(name)[0]);
    const replicas = listReplicaProcesses().filter((r) => children.includes(r.ppid));
    expect(replicas.length).toBeGreaterThan(0);
    process.kill(-launcher.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    for (const pid of [...children, ...replicas.map((r) => r.pid)]) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(out).toMatch(/\[launcher\]\s+stopped/);
  }, 60_000);
});
