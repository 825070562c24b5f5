import { execFile, spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The bin npm links as node_modules/.bin/rgpu (what `npx rgpu` runs); it imports the built dist/. */
const BIN = path.join(ROOT, 'packages/cli/bin/rgpu.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let platform: TestPlatform;
let home: TempDir;
let env: Record<string, string>;
let token: string;

/** Runs the real CLI as a user's shell would: a child process with only the environment given. */
function rgpu(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...env, ...opts.env }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && err.killed) return resolve({ code: null, stdout, stderr: `${stderr}[killed: rgpu ${args.join(' ')} ran past 20 s]` });
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: child.exitCode, stdout, stderr });
    });
    child.stdin!.end(opts.stdin ?? '');
  });
}

/** Starts a long-running command, resolves with its output once `until` shows up, then interrupts it. */
function followUntil(args: string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${until} in 10 s: ${out}`));
    }, 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        child.kill('SIGINT');
        resolve(out);
      }
    });
  });
}

const json = <T>(r: Run): T => {
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  platform = await startTestPlatform();
  home = await tempDir('rgpu-cli-');
  // A private HOME and XDG dir: the test never reads or writes the user's real config.
  env = { PATH: process.env.PATH ?? '', HOME: home.path, XDG_CONFIG_HOME: path.join(home.path, 'xdg'), LANG: 'en_US.UTF-8' };
  token = await platform.token({ sub: 'cli-user', workspaces: [456] });
  await writeFile(path.join(home.path, 'model.onnx'), colorClassifierOnnx());
  await writeFile(path.join(home.path, 'batchable.onnx'), colorClassifierOnnx({ batch: 'N' }));
  await writeFile(path.join(home.path, 'red.png'), await solidImage('red', { format: 'png' }));
});

afterAll(async () => {
  await platform?.stop();
  await home?.cleanup();
});

describe('rgpu CLI against a real platform', () => {
  it('login checks the token and writes the config file with mode 0600; a bad token exits 1 with the API message', async () => {
    const bad = await rgpu(['login', '--url', platform.url, '--token', 'not-a-jwt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: .*token.*\(HTTP 401/i);
    const cfg = path.join(home.path, 'xdg/rgpu/config.json');
    await expect(stat(cfg)).rejects.toThrow(); // nothing stored for a refused token

    // Token on stdin (kept out of argv and shell history).
    const ok = await rgpu(['login', '--url', platform.url, '--workspace', '456'], { stdin: `${token}\n` });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(cfg);
    expect((await stat(cfg)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(cfg))).mode & 0o077).toBe(0);

    // RGPU_TOKEN overrides the stored token: a wrong one is refused, in the language asked for.
    const zh = await rgpu(['services', 'list'], { env: { RGPU_TOKEN: 'bad', LANG: 'zh_CN.UTF-8' } });
    expect(zh.code).toBe(1);
    expect(zh.stderr).toMatch(/[\u4e00-\u9fff]/);
  });

  it('bad usage exits 2 with a message; --help exits 0', async () => {
    const missing = await rgpu(['services', 'scale', 'svc-x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'replicas'");
    expect((await rgpu(['services', 'scale', 'svc-x', 'lots'])).code).toBe(2);
    expect((await rgpu(['nonsense'])).code).toBe(2);
    expect((await rgpu(['models', 'upload', '1', '--file', 'x.onnx'])).code).toBe(2); // --version, --labels missing
    const help = await rgpu(['services', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--wait');
  });

  it('models create + upload + list, services create --wait … predict … delete', async () => {
    const model = json<{ model_id: number }>(await rgpu(['models', 'create', '--name', 'cli-colours', '--json']));
    const upload = await rgpu(['models', 'upload', String(model.model_id), '--file', path.join(home.path, 'model.onnx'), '--version', 'v1', '--labels', 'red,green,blue']);
    expect(upload.stderr).toBe('');
    expect(upload.stdout).toMatch(/sha256\s+[0-9a-f]{64}/);
    expect(upload.stdout).toMatch(/labels\s+red, green, blue/);

    const models = json<{ items: { model_id: number; name: string }[] }>(await rgpu(['models', 'list', '--json']));
    expect(models.items.map((m) => m.name)).toContain('cli-colours');
    const table = await rgpu(['models', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^${model.model_id}\\s+cli-colours\\s+456\\s+onnx`, 'm'));

    // create --wait follows the GraphQL subscription until running; progress lines come before the end.
    const created = await rgpu(['services', 'create', '--name', 'cli-svc', '--model', String(model.model_id), '--version', 'v1', '--replicas', '1', '--memory', '1Gi', '--wait']);
    expect(created.stderr).toBe('');
    expect(created.code, created.stdout).toBe(0);
    const id = /svc-[a-z0-9]+/.exec(created.stdout)![0];
    expect(created.stdout).toMatch(/running 1\/1 ready/);

    // A service that cannot come up ends the wait with exit 1 and its reason; --json keeps stdout one JSON document.
    const failed = await rgpu(['services', 'create', '--name', 'cli-gpu', '--model', String(model.model_id), '--version', 'v1', '--gpu', '1', '--wait', '--json']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/failed .*gpu_request_exceeds_capacity/);
    const failedState = JSON.parse(failed.stdout) as { service_id: string; status: string; reason: string };
    expect(failedState).toMatchObject({ status: 'failed', reason: 'gpu_request_exceeds_capacity' });
    expect((await rgpu(['services', 'delete', failedState.service_id])).code).toBe(0);

    const list = await rgpu(['services', 'list', '--status', 'running']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+cli-svc\\s+running\\s+1\\s`, 'm'));
    const got = json<{ status: string; memory: number; ready_replicas: number }>(await rgpu(['services', 'get', id, '--json']));
    expect(got).toMatchObject({ status: 'running', memory: 1024 ** 3, ready_replicas: 1 });

    const predicted = await rgpu(['services', 'predict', id, '--image', path.join(home.path, 'red.png')]);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout.split('\n')[1]).toMatch(/^red\s+\d+\.\d%/); // top class first
    const p = json<{ predictions: { class: string; confidence: number }[] }>(await rgpu(['services', 'predict', id, '--image', path.join(home.path, 'red.png'), '--json']));
    expect(p.predictions[0].class).toBe('red');

    const scaled = json<{ replicas: number }>(await rgpu(['services', 'scale', id, '2', '--json']));
    expect(scaled.replicas).toBe(2);
    const updated = json<{ description: string; memory: number }>(await rgpu(['services', 'update', id, '--description', 'from the CLI', '--memory', '1.5Gi', '--json']));
    expect(updated).toMatchObject({ description: 'from the CLI', memory: 1.5 * 1024 ** 3 });
    const watched = await rgpu(['services', 'watch', id]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/running 2\/2 ready/);

    const stopped = await rgpu(['services', 'stop', id, '--wait']);
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toMatch(/stopped 0\/2 ready/);
    const started = await rgpu(['services', 'start', id, '--wait']);
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/running 2\/2 ready/);

    // Replica logs: the platform's logs endpoint, one line per entry prefixed with its replica.
    const logs = await rgpu(['services', 'logs', id, '--tail', '5']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(new RegExp(`^\\[${id}-[a-z0-9]+\\] \\d{4}-\\d\\d-\\d\\dT`, 'm'));
    const logItems = json<{ items: { replica: string; line: string }[] }>(await rgpu(['services', 'logs', id, '--tail', '2', '--json']));
    expect(logItems.items.length).toBeGreaterThan(0);
    expect(logItems.items.length).toBeLessThanOrEqual(2);
    // --follow reads the server-sent events: the tail arrives at once, the command runs until interrupted.
    const followed = await followUntil(['services', 'logs', id, '--tail', '1', '--follow', '--json'], /"replica":"svc-/);
    expect(JSON.parse(followed.split('\n')[0])).toMatchObject({ replica: expect.stringMatching(/^svc-/), line: expect.any(String) });

    // The model cannot go while the service uses it: the API's 409, in the language --lang asks for.
    const inUse = await rgpu(['models', 'delete', String(model.model_id), '--lang', 'zh']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/HTTP 409/);
    expect(inUse.stderr).toMatch(/[\u4e00-\u9fff]/);

    const events = json<{ items: { type: string; status: string }[] }>(await rgpu(['services', 'events', id, '--json']));
    expect(events.items.map((e) => e.status)).toEqual(expect.arrayContaining(['creating', 'running', 'stopped']));
    const eventsTable = await rgpu(['services', 'events', id]);
    expect(eventsTable.stdout.split('\n')[0]).toMatch(/^AT\s+TYPE\s+STATUS\s+REASON\s+MESSAGE/);

    expect((await rgpu(['services', 'delete', id])).code).toBe(0);
    const gone = await rgpu(['services', 'get', id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/error: .*\(HTTP 404, code 404\d\d\)/);
    expect((await rgpu(['models', 'delete', String(model.model_id)])).code).toBe(0);
    expect(json<{ items: unknown[] }>(await rgpu(['models', 'list', '--json'])).items).toEqual([]);
  });

  it('models upload --max-batch-size …, models batching to change it and --off; bounds are the API\'s 400', async () => {
    const model = json<{ model_id: number }>(await rgpu(['models', 'create', '--name', 'cli-batched', '--json']));
    const id = String(model.model_id);
    const file = path.join(home.path, 'batchable.onnx');
    const upload = await rgpu(['models', 'upload', id, '--file', file, '--version', 'v1', '--labels', 'red,green,blue', '--max-batch-size', '16', '--max-queue-delay-ms', '7', '--preferred-batch-sizes', '4,8']);
    expect(upload.stderr).toBe('');
    expect(upload.stdout).toMatch(/^batching\s+max 16, delay 7ms, preferred 4,8$/m);
    const plain = await rgpu(['models', 'upload', id, '--file', file, '--version', 'v2', '--labels', 'red,green,blue']);
    expect(plain.stdout).toMatch(/^batching\s+off$/m);

    // The model's detail: a BATCHING column, and the API's object unchanged under --json.
    const table = await rgpu(['models', 'list', id]);
    expect(table.stdout).toMatch(/^VERSION\s.*\sBATCHING$/m);
    expect(table.stdout).toMatch(/^v1\s.*\smax 16, delay 7ms, preferred 4,8$/m);
    expect(table.stdout).toMatch(/^v2\s.*\soff$/m);
    const versionsOf = async () =>
      json<{ versions: { version: string; batching: unknown }[] }>(await rgpu(['models', 'list', id, '--json'])).versions.map((v) => [v.version, v.batching]);
    expect(await versionsOf()).toEqual([
      ['v1', { max_batch_size: 16, max_queue_delay_ms: 7, preferred_batch_sizes: [4, 8] }],
      ['v2', null],
    ]);

    // Changed in place (the flags replace the setting: the API's 5 ms default delay, no preferred sizes), then off.
    const changed = await rgpu(['models', 'batching', id, 'v2', '--max-batch-size', '8']);
    expect(changed.stderr).toBe('');
    expect(changed.stdout).toMatch(/^batching\s+max 8, delay 5ms$/m);
    const off = await rgpu(['models', 'batching', id, 'v1', '--off']);
    expect(off.stderr).toBe('');
    expect(off.stdout).toMatch(/^batching\s+off$/m);
    expect(await versionsOf()).toEqual([
      ['v1', null],
      ['v2', { max_batch_size: 8, max_queue_delay_ms: 5, preferred_batch_sizes: [] }],
    ]);

    // Out of bounds: the gateway's 400 with its field message; nothing uploaded or changed.
    const zero = await rgpu(['models', 'batching', id, 'v2', '--max-batch-size', '0']);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/\(HTTP 400, code 400\d\d\)/);
    expect(zero.stderr).toMatch(/^ {2}batching: max_batch_size must be an integer from 1 to 256$/m);
    const badUpload = await rgpu(['models', 'upload', id, '--file', file, '--version', 'v3', '--labels', 'red,green,blue', '--max-batch-size', '0']);
    expect(badUpload.code).toBe(1);
    expect(badUpload.stderr).toMatch(/^ {2}batching: max_batch_size must be/m);
    expect((await versionsOf()).map(([v]) => v)).toEqual(['v1', 'v2']);
    expect((await versionsOf())[1][1]).toMatchObject({ max_batch_size: 8 });

    // Local mistakes are usage errors (exit 2) before any request.
    for (const args of [
      ['models', 'batching', id, 'v1'],
      ['models', 'batching', id, 'v1', '--off', '--max-batch-size', '4'],
      ['models', 'batching', id, 'v1', '--preferred-batch-sizes', '4,8'],
      ['models', 'batching', id, 'v1', '--max-batch-size', '8', '--preferred-batch-sizes', '4,x'],
      ['models', 'batching', id, 'v1', '--max-batch-size', 'lots'],
    ]) {
      const r = await rgpu(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--max-batch-size|--preferred-batch-sizes|--off/);
    }

    expect((await rgpu(['models', 'delete', id])).code).toBe(0);
  });

  it('npm links the workspace bin as node_modules/.bin/rgpu', async () => {
    const link = path.join(ROOT, 'node_modules/.bin/rgpu');
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(link, ['--version'], { env });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(r).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});
