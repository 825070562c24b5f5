import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenOnnx, colorClassifierOnnx, dynamicInputOnnx, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { getJson, imageBody, modelEnv, postJson, runToExit, startModelServer, type ModelServerProcess } from './spawn.js';

let dir: TempDir;
let env: Record<string, string>;
const started: ModelServerProcess[] = [];

async function start(extra: Record<string, string> = {}, stdin: 'pipe' | 'ignore' = 'ignore'): Promise<ModelServerProcess> {
  const server = await startModelServer({ env: { ...env, ...extra }, stdin });
  started.push(server);
  return server;
}

beforeAll(async () => {
  dir = await tempDir('rgpu-model-server-life-');
  env = await modelEnv(dir.path, 'color.onnx', colorClassifierOnnx({ height: 16, width: 16 }));
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
  await dir?.cleanup();
});

/** A predict whose body is held back: the request is in flight on the server until `finish()` is called. */
function slowPredict(port: number, body: string): { finish(): void; response: Promise<{ status: number; body: string }> } {
  let req!: ClientRequest;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  req.write(body.slice(0, half));
  return { finish: () => req.end(body.slice(half)), response };
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Sends the first bytes of a request now and the rest later, so its connection is busy (not idle) meanwhile. */
function partialRequest(port: number, head: string): { socket: Socket; connected: Promise<void>; complete(rest: string): Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  let text = '';
  socket.setEncoding('utf8').on('data', (c: string) => (text += c));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(text)));
  return { socket, connected, complete: (rest) => (socket.write(rest), closed) };
}

/** The replica's own count of requests in flight (its `/metrics`), not counting the scrape that asks. */
async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^rgpu_replica_requests_in_flight (\d+)$/m.exec(text);
  if (!match) throw new Error(`no in-flight gauge in:\n${text}`);
  return Number(match[1]) - 1;
}

/** Waits until the server itself says `n` requests are in flight: their headers have arrived, whatever the load. */
async function waitForInFlight(url: string, n: number): Promise<void> {
  await expect.poll(() => inFlight(url), { timeout: 10_000, interval: 20 }).toBe(n);
}

describe('model server process', () => {
  it('reports the requests it has in flight and whether it is ready on /metrics (Prometheus text)', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE rgpu_replica_requests_in_flight gauge$/m);
    expect(text).toMatch(/^rgpu_replica_requests_in_flight 1$/m); // the scrape itself
    expect(text).toMatch(/^rgpu_replica_ready 1$/m);
    const held = slowPredict(server.port, JSON.stringify(imageBody(await solidImage('red', { format: 'png' }))));
    await waitForInFlight(server.url, 1);
    held.finish();
    expect((await held.response).status).toBe(200);
    await waitForInFlight(server.url, 0);
  });

  it("turns onnxruntime's telemetry off by itself: nothing lands in its HOME or TMPDIR (no queue, no mat-debug log)", async () => {
    const home = await tempDir('rgpu-model-server-home-');
    const tmp = await tempDir('rgpu-model-server-tmp-');
    try {
      // As Kubernetes or a user would start it: ORT_DISABLE_TELEMETRY unset, explicitly '0' even.
      const server = await start({ HOME: home.path, TMPDIR: tmp.path, ORT_DISABLE_TELEMETRY: '0' });
      const res = await postJson(`${server.url}/predict`, imageBody(await solidImage('red', { format: 'png' })));
      expect(res.body.data.predictions[0].class).toBe('red');
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      expect(await readdir(home.path)).toEqual([]);
      expect(await readdir(tmp.path)).toEqual([]);
    } finally {
      await home.cleanup();
      await tmp.cleanup();
    }
  });

  it('prints exactly one listening line on stdout and serves health and keep-alive', async () => {
    const server = await start();
    expect(server.stdoutLines).toHaveLength(1);
    expect(server.stdoutLines[0]).toMatch(/^\{"event":"listening","port":\d+,"device":"cpu"\}$/);
    expect(JSON.parse(server.stdoutLines[0]).port).toBe(server.port);
    const live = await fetch(`${server.url}/v2/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${server.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    // Proxies with a 60 s idle timeout must close first; Node advertises the server's timeout.
    expect(ready.headers.get('keep-alive')).toBe('timeout=65');
    const unknown = await getJson(`${server.url}/predict/extra`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 40400 });
    const wrongMethod = await getJson(`${server.url}/predict`);
    expect(wrongMethod.status).toBe(404);
    // The JSON logs are on stderr, stdout stays the protocol.
    expect(server.stderr()).toMatch(/"msg":"listening"/);
  });

  it('falls back to the CPU with a reason when CUDA_VISIBLE_DEVICES names a GPU it cannot use, and still serves', async () => {
    const server = await start({ CUDA_VISIBLE_DEVICES: '0' });
    expect(server.device).toBe('cpu');
    const meta = await getJson(`${server.url}/v2/models/svc-test0000001`);
    expect(meta.body.execution_provider).toBe('cpu');
    expect(meta.body.device_fallback_reason).toMatch(/CUDA execution provider unavailable: .+/);
    const res = await postJson(`${server.url}/predict`, imageBody(await solidImage('green', { format: 'png' })));
    expect(res.body.data.predictions[0].class).toBe('green');
    // RGPU_DEVICE=cpu never tries CUDA, so there is nothing to explain.
    const cpu = await start({ CUDA_VISIBLE_DEVICES: '0', RGPU_DEVICE: 'cpu' });
    expect((await getJson(`${cpu.url}/v2/models/svc-test0000001`)).body.device_fallback_reason).toBeUndefined();
  });

  it('on SIGTERM turns not-ready, refuses new connections, finishes every request in flight, then exits 0', async () => {
    const server = await start();
    const body = JSON.stringify(imageBody(await solidImage('blue', { format: 'jpeg', width: 120, height: 80 })));
    const slow = Array.from({ length: 4 }, () => slowPredict(server.port, body));
    const probe = partialRequest(server.port, 'GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n');
    await probe.connected;
    await waitForInFlight(server.url, 4); // accepted after the probe's connection, so that one is accepted too
    server.child.kill('SIGTERM');
    // Draining has begun once the listener is closed.
    await expect.poll(() => connectionRefused(server.port), { timeout: 10_000, interval: 20 }).toBe(true);
    expect(server.child.exitCode).toBeNull(); // still waiting for its requests
    const readiness = await probe.complete('\r\n');
    expect(readiness).toMatch(/^HTTP\/1\.1 503/);
    expect(readiness).toMatch(/\{"ready":false\}$/);
    for (const s of slow) s.finish();
    const answers = await Promise.all(slow.map((s) => s.response));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).data.predictions[0].class).toBe('blue');
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('gives up on a request that never completes after RGPU_DRAIN_TIMEOUT_MS and still exits 0', async () => {
    const server = await start({ RGPU_DRAIN_TIMEOUT_MS: '400' });
    const stuck = slowPredict(server.port, JSON.stringify(imageBody(await solidImage('red', { format: 'png' }))));
    stuck.response.catch(() => {}); // the connection is cut
    await waitForInFlight(server.url, 1);
    const sent = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeGreaterThanOrEqual(350);
  });

  it('exits when stdin ends if RGPU_EXIT_ON_STDIN_CLOSE=1, and not otherwise', async () => {
    const watched = await start({ RGPU_EXIT_ON_STDIN_CLOSE: '1' }, 'pipe');
    const unwatched = await start({}, 'pipe');
    watched.child.stdin!.end();
    unwatched.child.stdin!.end();
    expect(await watched.exited).toEqual({ code: 0, signal: null });
    await sleep(300);
    expect(unwatched.child.exitCode).toBeNull();
    expect((await fetch(`${unwatched.url}/v2/health/ready`)).status).toBe(200);
  });

  it('exits 78 naming every bad variable at once', async () => {
    const result = await runToExit({
      env: { RGPU_MODEL_PATH: env.RGPU_MODEL_PATH, RGPU_MODEL_VERSION: 'v1', RGPU_LABELS: 'red,green', PORT: 'http', RGPU_DEVICE: 'tpu', RGPU_PREPROCESSING: '{"mean":[0,0]}' },
    });
    expect(result.code).toBe(78);
    for (const variable of ['RGPU_MODEL_NAME', 'RGPU_LABELS', 'PORT', 'RGPU_DEVICE', 'RGPU_PREPROCESSING']) {
      expect(result.stderr).toContain(variable);
    }
    expect(result.stderr).not.toContain('RGPU_MODEL_VERSION');
    const failed = JSON.parse(result.stdout);
    expect(failed).toMatchObject({ event: 'failed', exit_code: 78 });
    expect(failed.reason).toContain('RGPU_LABELS');
  });

  it('exits 78 for a model it cannot serve: missing file, not ONNX, labels of another size, preprocessing that does not fit', async () => {
    await import('node:fs/promises').then(async (fs) => {
      await fs.writeFile(`${dir.path}/broken.onnx`, brokenOnnx());
      await fs.writeFile(`${dir.path}/dynamic.onnx`, dynamicInputOnnx());
    });
    const cases: [Record<string, string>, RegExp][] = [
      [{ RGPU_MODEL_PATH: `${dir.path}/missing.onnx` }, /RGPU_MODEL_PATH: cannot read the model file/],
      [{ RGPU_MODEL_PATH: `${dir.path}/broken.onnx` }, /RGPU_MODEL_PATH: onnxruntime cannot load/],
      [{ RGPU_LABELS: '["red","green","blue","violet"]' }, /RGPU_LABELS: labels has 4 entries but the model's output \\?"scores\\?" has 3 classes/],
      // Core's imageClassifierSignature, as at upload: no silent 224×224 for a dynamic input, no absurd std.
      [{ RGPU_MODEL_PATH: `${dir.path}/dynamic.onnx` }, /RGPU_PREPROCESSING \(size\): is required: the height or width of the model's input/],
      [{ RGPU_PREPROCESSING: '{"mean":[1e308,0,0],"std":[1e-308,1,1]}' }, /RGPU_PREPROCESSING \(mean\[0\]\): must be a finite number.*RGPU_PREPROCESSING \(std\[0\]\)/],
    ];
    const results = await Promise.all(cases.map(([extra]) => runToExit({ env: { ...env, ...extra } })));
    results.forEach((result, i) => {
      expect(result.code).toBe(78);
      expect(result.stderr).toMatch(cases[i][1]);
    });
  });
});
