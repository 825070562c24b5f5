import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken, tempDir, type TempDir } from '@remotegpu/testkit';
import { PlatformClient, waitFor } from '../support/client.js';
import { isRunning, replicasOfParent } from '../support/replicas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WS = 61;
const SECRET = 'npm-start-signing-secret-that-replicas-must-never-see-0123';
const CANARY = 'RGPU_TEST_CANARY_VARIABLE';

/** The processes whose parent is `pid`, from /proc (what `ps --ppid` shows). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The platform's node process under `npm start`: the descendant that runs the standalone entry point. */
function platformUnder(npmPid: number): number | undefined {
  const queue = childrenOf(npmPid);
  while (queue.length) {
    const pid = queue.shift()!;
    try {
      const [program, entry] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (path.basename(program) === 'node' && entry === 'services/standalone/dist/main.js') return pid;
    } catch {
      continue;
    }
    queue.push(...childrenOf(pid));
  }
  return undefined;
}

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw.split('\0').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

interface NpmStart {
  npm: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<void>;
}

/**
 * `npm start` exactly as a user types it, through npm and the script's `sh -c`. `--ignore-scripts` skips only
 * `prestart` (the build, done before the suite; it must not rebuild for minutes here), never the `start` script.
 */
async function npmStart(dataDir: string): Promise<NpmStart> {
  const npm = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: ROOT,
    // Its own process group, as a shell's job control gives a command typed at a terminal.
    detached: true,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root', // npm's own cache and logs
      LANG: 'C.UTF-8',
      npm_config_update_notifier: 'false',
      PORT: '0',
      RGPU_DATA_DIR: dataDir,
      RGPU_JWT_SECRET: SECRET,
      RGPU_LOCAL_GPUS: '0',
      RGPU_LOG_LEVEL: 'info',
      [CANARY]: 'canary-7d41c',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-npm.pid!, 'SIGKILL'); // npm and whatever it started so far (its process group)
      reject(new Error(`npm start did not listen within 30 s:\n${out}`));
    }, 30_000);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    npm.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`npm start exited before listening:\n${out}`));
    });
  });
  return { npm, url, output: () => out, exited };
}

/**
 * DESIGN §7 and issue 6 (points 2 and 14), on the real command path: `npm start` → sh → node → replicas.
 * A signal to the npm process stops everything; a replica's environment holds none of the platform's secrets.
 */
describe('npm start (real npm, real shell, real replicas)', () => {
  let dir: TempDir;
  let current: NpmStart | undefined;
  /** Every pid seen in the tree, killed after a failed test so that none outlives the suite. */
  const seen = new Set<number>();

  beforeAll(async () => {
    dir = await tempDir('rgpu-npm-start-');
  });
  afterEach(() => {
    for (const pid of seen) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    seen.clear();
    current = undefined;
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  /** Starts the platform, brings one service up, and returns the pids of npm, node main and the replica. */
  async function startWithReplica(name: string) {
    current = await npmStart(path.join(dir.path, name));
    const npmPid = current.npm.pid!;
    seen.add(npmPid);
    for (const pid of childrenOf(npmPid)) seen.add(pid); // the script's shell, if it did not exec
    const found = platformUnder(npmPid);
    if (found === undefined) throw new Error(`no platform process under npm:\n${current.output()}`);
    const mainPid = found;
    seen.add(mainPid);
    const api = new PlatformClient(current.url, await signToken(SECRET, { sub: 'npm-start', workspaces: [WS] }));
    const modelId = await api.createModel(WS, `npm-start-${name}`);
    await api.uploadColorVersion(modelId, 'v1');
    const id = await api.createService({ name, workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    await api.waitRunning(id, 1, 60_000);
    const replicas = replicasOfParent(mainPid).filter((r) => r.serviceId === id);
    expect(replicas).toHaveLength(1);
    for (const r of replicas) seen.add(r.pid);
    return { npmPid, mainPid, replicaPids: replicas.map((r) => r.pid) };
  }

  it('starts replicas with an allow-listed environment: no JWT secret, no unknown variable, HOME and TMPDIR in the data dir', async () => {
    const { mainPid, replicaPids } = await startWithReplica('environ');
    const environ = environOf(replicaPids[0]);
    // The platform itself holds the secret (it signs with it) and everything npm added.
    const platformEnviron = environOf(mainPid);
    expect(platformEnviron).toMatchObject({ RGPU_JWT_SECRET: SECRET, [CANARY]: 'canary-7d41c' });
    expect(environ).not.toHaveProperty('RGPU_JWT_SECRET');
    expect(environ).not.toHaveProperty(CANARY);
    expect(Object.values(environ).join('\n')).not.toContain(SECRET);
    // npm's own npm_* variables reach the platform; they are unknown to a replica and stay behind too.
    expect(Object.keys(environ).filter((k) => k.startsWith('npm_'))).toEqual([]);
    const dataDir = path.join(dir.path, 'environ');
    expect(environ).toMatchObject({ PATH: platformEnviron.PATH, LANG: 'C.UTF-8', ORT_DISABLE_TELEMETRY: '1', RGPU_LOG_LEVEL: 'info' });
    expect(environ.HOME.startsWith(`${dataDir}/`)).toBe(true);
    expect(environ.TMPDIR.startsWith(`${dataDir}/`)).toBe(true);
    current!.npm.kill('SIGTERM');
    await current!.exited;
  }, 120_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the npm process stops the platform and every replica', async (signal) => {
    const { npmPid, mainPid, replicaPids } = await startWithReplica(signal.toLowerCase());
    const tree = [npmPid, ...childrenOf(npmPid), mainPid, ...replicaPids];
    expect(tree.every(isRunning)).toBe(true);

    const sent = Date.now();
    process.kill(npmPid, signal);
    await waitFor(async () => tree.filter(isRunning), (alive) => alive.length === 0, `npm, node and replicas gone after ${signal}`, 20_000);
    await current!.exited;
    console.info(`[npm-start.e2e] ${signal} to npm → npm, platform and replica gone in ${Date.now() - sent} ms`);
  }, 120_000);

  it("Ctrl-C at a terminal (SIGINT to npm's whole process group) stops the platform and every replica", async () => {
    const { npmPid, mainPid, replicaPids } = await startWithReplica('ctrl-c');
    const tree = [npmPid, ...childrenOf(npmPid), mainPid, ...replicaPids];
    process.kill(-npmPid, 'SIGINT');
    await waitFor(async () => tree.filter(isRunning), (alive) => alive.length === 0, 'npm, node and replicas gone after Ctrl-C', 20_000);
    await current!.exited;
  }, 120_000);
});
