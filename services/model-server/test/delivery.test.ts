import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx, solidImage, tempDir, type TempDir } from '@remotegpu/testkit';
import { parseStdoutEvent } from '../src/stdout.protocol.js';
import { imageBody, postJson, runToExit, startModelServer, type ModelServerProcess } from './spawn.js';

/**
 * Model delivery by URI (DESIGN §2.1), the process as a runtime starts it: the replica downloads its model itself,
 * verifies the sha256, caches it, and says in its `failed` line (and termination message) why it cannot serve.
 */

const MODEL = colorClassifierOnnx({ height: 16, width: 16 });
const SHA = createHash('sha256').update(MODEL).digest('hex');
const TOKEN = 'artifact.token.for-this-test';

let dir: TempDir;
let origin: Server;
let base: string;
const hits = new Map<string, number>();
const started: ModelServerProcess[] = [];

beforeAll(async () => {
  dir = await tempDir('rgpu-model-delivery-');
  // An artifact host: a public file, one behind a bearer token, and the ways a download goes wrong.
  origin = createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === '/public/model.onnx') return void res.writeHead(200, { 'content-length': MODEL.length }).end(MODEL);
    if (url === '/private/model.onnx') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 40100, message: 'The artifact token has expired' }));
      }
      return void res.writeHead(200).end(MODEL);
    }
    if (url === '/chunked/model.onnx') {
      res.writeHead(200); // no content-length: the size shows only while reading
      res.write(MODEL);
      return void res.end();
    }
    if (url === '/moved') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    if (url === '/stalls') {
      res.writeHead(200, { 'content-length': MODEL.length });
      res.write(MODEL.subarray(0, 100)); // and never the rest
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  await dir?.cleanup();
});

function uriEnv(uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RGPU_MODEL_URI: uri,
    RGPU_MODEL_SHA256: SHA,
    RGPU_MODEL_NAME: 'svc-delivery0001',
    RGPU_MODEL_VERSION: 'v1',
    RGPU_LABELS: JSON.stringify(['red', 'green', 'blue']),
    RGPU_INTRA_OP_THREADS: '1',
    ...extra,
  };
}

function failedEvent(stdout: string) {
  const events = stdout.split('\n').map(parseStdoutEvent).filter((e) => e?.event === 'failed');
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('model delivery by URI', () => {
  it('downloads with its token, verifies and serves the model; a restart is served from the cache', async () => {
    const cache = path.join(dir.path, 'cache-ok');
    const env = uriEnv(`${base}/private/model.onnx`, { RGPU_MODEL_TOKEN: TOKEN, RGPU_MODEL_CACHE_DIR: cache });
    const first = await startModelServer({ env });
    started.push(first);
    const red = await postJson(`${first.url}/predict`, imageBody(await solidImage([230, 20, 20], { format: 'png' })));
    expect(red.status).toBe(200);
    expect(red.body.data.predictions[0].class).toBe('red');
    expect(await readdir(cache)).toEqual([`${SHA}.onnx`]); // only the verified file, no partial left
    expect((await readFile(path.join(cache, `${SHA}.onnx`))).equals(MODEL)).toBe(true);
    await first.stop();

    const second = await startModelServer({ env });
    started.push(second);
    expect(hits.get('/private/model.onnx')).toBe(1);
    expect(second.stderr()).toMatch(/model artifact from the cache/);
    await second.stop();
  });

  it('refuses bytes with another sha256: exit 78, artifact_checksum_mismatch on stdout and in the termination message, nothing cached', async () => {
    const cache = path.join(dir.path, 'cache-mismatch');
    const terminationLog = path.join(dir.path, 'termination-log');
    const wrong = 'e'.repeat(64);
    const exit = await runToExit({
      env: uriEnv(`${base}/public/model.onnx`, { RGPU_MODEL_SHA256: wrong, RGPU_MODEL_CACHE_DIR: cache, RGPU_TERMINATION_MESSAGE_PATH: terminationLog }),
    });
    expect(exit.code).toBe(78);
    const failed = failedEvent(exit.stdout);
    expect(failed).toMatchObject({ exit_code: 78, code: 'artifact_checksum_mismatch', params: { expected: wrong, actual: SHA } });
    expect(parseStdoutEvent((await readFile(terminationLog, 'utf8')).trim())).toEqual(failed);
    expect(await readdir(cache)).toEqual([]);
  });

  it('refuses another size than registered as another artifact (exit 78, artifact_size_mismatch), reading no further', async () => {
    const [announced, streamed] = await Promise.all([
      runToExit({ env: uriEnv(`${base}/public/model.onnx`, { RGPU_MODEL_SIZE_BYTES: String(MODEL.length + 1), RGPU_MODEL_CACHE_DIR: path.join(dir.path, 'cache-size-1') }) }),
      runToExit({ env: uriEnv(`${base}/chunked/model.onnx`, { RGPU_MODEL_SIZE_BYTES: String(MODEL.length - 10), RGPU_MODEL_CACHE_DIR: path.join(dir.path, 'cache-size-2') }) }),
    ]);
    expect(announced.code).toBe(78);
    expect(failedEvent(announced.stdout)).toMatchObject({ code: 'artifact_size_mismatch', params: { expected: MODEL.length + 1, actual: MODEL.length } });
    expect(streamed.code).toBe(78);
    expect(failedEvent(streamed.stdout)).toMatchObject({ code: 'artifact_size_mismatch', params: { expected: MODEL.length - 10, actual: `>${MODEL.length - 10}` } });
  });

  it('fails a download it cannot finish with artifact_fetch_failed and exit 1: refused, redirected, too large, stalled', async () => {
    const cases = {
      refused: { env: uriEnv(`${base}/private/model.onnx`), says: /answered 401: The artifact token has expired/ },
      redirected: { env: uriEnv(`${base}/moved`), says: /answered 302: redirects are not followed/ },
      tooLarge: { env: uriEnv(`${base}/public/model.onnx`, { RGPU_MODEL_MAX_BYTES: String(MODEL.length - 1) }), says: /larger than the \d+ bytes allowed \(RGPU_MODEL_MAX_BYTES\)/ },
      stalled: { env: uriEnv(`${base}/stalls`, { RGPU_MODEL_FETCH_TIMEOUT_MS: '1000' }), says: /not complete within 1000 ms \(RGPU_MODEL_FETCH_TIMEOUT_MS\)/ },
    };
    const outcomes = await Promise.all(
      Object.entries(cases).map(async ([name, c]) => {
        const cache = path.join(dir.path, `cache-${name}`);
        const exit = await runToExit({ env: { ...c.env, RGPU_MODEL_CACHE_DIR: cache } });
        return { name, c, exit, cached: await readdir(cache) };
      }),
    );
    for (const { name, c, exit, cached } of outcomes) {
      expect(exit.code, name).toBe(1);
      const failed = failedEvent(exit.stdout);
      expect(failed.code, name).toBe('artifact_fetch_failed');
      expect(String(failed.params?.error), name).toMatch(c.says);
      expect(cached, name).toEqual([]);
    }
    // The token never shows in what the replica says.
    expect(outcomes.map((o) => o.exit.stdout + o.exit.stderr).join('')).not.toContain(TOKEN);
  });
});
