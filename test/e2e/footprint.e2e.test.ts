import { mkdir, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, tempDir, type TempDir } from '@remotegpu/testkit';
import { spawnStandalone, type StandaloneProcess } from '../support/process.js';
import { colorImage, PlatformClient, predictionProblem, predictVia, waitFor } from '../support/client.js';
import { isRunning, replicasOfParent } from '../support/replicas.js';

const WS = 71;
const SECRET = 'footprint-signing-secret-0123456789-abcdefghij';

/** Everything under `dir`, as paths relative to it ('' entries never appear). */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(raw.split('\0').filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/**
 * Issue 6 point 3, DESIGN §8: the platform writes only inside RGPU_DATA_DIR. onnxruntime 1.30 (loaded by the
 * gateway's upload checks and by every replica) otherwise leaves `mat-debug-<pid>.log` and `.ses` in $TMPDIR and
 * a telemetry queue under $HOME/.cache/Microsoft/DeveloperTools/.onnxruntime/.
 *
 * The platform runs as `npm start` runs it, with a HOME, a TMPDIR and a working directory of its own that nothing
 * else on this machine touches, so "nothing new there" is exact whatever else runs meanwhile. The system temp dir
 * is checked too, for files named after our processes (a library that ignored TMPDIR would land there).
 */
describe('files outside the data directory (real platform process, real replicas)', () => {
  let root: TempDir;
  let dirs: { home: string; tmp: string; cwd: string; data: string };
  let platform: StandaloneProcess | undefined;

  beforeAll(async () => {
    root = await tempDir('rgpu-footprint-');
    dirs = { home: path.join(root.path, 'home'), tmp: path.join(root.path, 'tmp'), cwd: path.join(root.path, 'cwd'), data: path.join(root.path, 'data') };
    for (const dir of Object.values(dirs)) await mkdir(dir);
  });
  afterAll(async () => {
    await platform?.stop('SIGKILL');
    await root?.cleanup();
  });

  it('upload, create, predict, delete and stop leave nothing in HOME, TMPDIR or the working directory', async () => {
    platform = await spawnStandalone(
      { HOME: dirs.home, TMPDIR: dirs.tmp, RGPU_DATA_DIR: dirs.data, RGPU_JWT_SECRET: SECRET, RGPU_LOCAL_GPUS: '0' },
      30_000,
      { cwd: dirs.cwd },
    );
    const platformPid = platform.child.pid!;
    const api = new PlatformClient(platform.url, await signToken(SECRET, { sub: 'footprint', workspaces: [WS] }));

    // The upload loads the model with onnxruntime inside the platform process.
    const modelId = await api.createModel(WS, 'footprint-colours');
    await api.uploadColorVersion(modelId, 'v1');
    const id = await api.createService({ name: 'footprint', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    const detail = await api.waitRunning(id, 1, 60_000);
    const replicas = replicasOfParent(platformPid).filter((r) => r.serviceId === id);
    expect(replicas).toHaveLength(1);
    const replicaPid = replicas[0].pid;
    // The replica's own HOME and TMPDIR are inside the data directory.
    const environ = environOf(replicaPid);
    expect(path.relative(dirs.data, environ.HOME).startsWith('..')).toBe(false);
    expect(path.relative(dirs.data, environ.TMPDIR).startsWith('..')).toBe(false);
    for (const via of ['data-plane', 'rest'] as const) {
      const outcome = await predictVia(api, via, { id, endpointUrl: detail.endpoint_url }, await colorImage('green', 'png', 40, 40));
      expect(predictionProblem(outcome, 'green'), via).toBeNull();
    }

    expect((await api.call('DELETE', `/inference/services/${id}`)).status).toBe(204);
    await waitFor(() => isRunning(replicaPid), (running) => !running, 'the deleted service has no replica process', 20_000);
    expect(await platform.stop('SIGTERM')).toBe(0);
    platform = undefined;

    expect(await listTree(dirs.home), `written under HOME ${dirs.home}`).toEqual([]);
    expect(await listTree(dirs.tmp), `written under TMPDIR ${dirs.tmp}`).toEqual([]);
    expect(await listTree(dirs.cwd), `written in the working directory ${dirs.cwd}`).toEqual([]);
    const named = (await readdir(tmpdir())).concat(await readdir('/tmp')).filter((name) =>
      [platformPid, replicaPid].some((pid) => name === `mat-debug-${pid}.log` || name.includes(`-${pid}.`)),
    );
    expect(named, 'files named after our processes in the system temp dir').toEqual([]);
  }, 120_000);
});
