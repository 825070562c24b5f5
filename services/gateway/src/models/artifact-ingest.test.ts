import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { access, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, ErrorCode } from '@remotegpu/core';
import { brokenOnnx, colorClassifierOnnx, dynamicInputOnnx, nonImageOnnx, scoreMapOnnx, tempDir, type TempDir } from '@remotegpu/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactIngestor, type ArtifactIngestOptions } from './artifact-ingest.js';

const MODEL = colorClassifierOnnx();
const MODEL_SHA256 = createHash('sha256').update(MODEL).digest('hex');
const MAX_BYTES = 64 * 1024;

let work: TempDir;
let dataDir: string;
let root: string;
let outside: string;
let uploads: string;

beforeEach(async () => {
  work = await tempDir('rgpu-ingest-');
  dataDir = join(work.path, 'data');
  root = join(work.path, 'artifacts');
  outside = join(work.path, 'elsewhere');
  uploads = join(work.path, 'uploads');
  await Promise.all([mkdir(dataDir), mkdir(root), mkdir(outside), mkdir(uploads)]);
});
afterEach(() => work.cleanup());

function ingestor(overrides: Partial<ArtifactIngestOptions> = {}): ArtifactIngestor {
  return new ArtifactIngestor({ dataDir, artifactRoots: [root], maxArtifactBytes: MAX_BYTES, fetchTimeoutMs: 2_000, ...overrides });
}

async function upload(bytes: Buffer): Promise<string> {
  const path = join(uploads, `upload-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, bytes);
  return path;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Every file below `dir`, relative: the whole state ingestion left behind. */
async function filesBelow(dir: string): Promise<string[]> {
  if (!(await exists(dir))) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

/** Asserts a 422 on `field` whose English text matches `text`, and returns it for further checks. */
async function expect422(promise: Promise<unknown>, field: string, text?: RegExp): Promise<AppError> {
  const err = await promise.then(
    () => expect.unreachable('expected a 422'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appError = err as AppError;
  expect(appError.code).toBe(ErrorCode.Unprocessable);
  expect(appError.httpStatus).toBe(422);
  expect(appError.fields.map((f) => f.field)).toEqual([field]);
  expect(appError.localized.zh).toMatch(/[\u4e00-\u9fff]/);
  if (text) expect(appError.localized.en).toMatch(text);
  return appError;
}

const TARGET = { modelId: 7, version: '1.0.0' };

describe('upload', () => {
  it('stores the model, reports size, sha256 and signature, and consumes the upload', async () => {
    const tempPath = await upload(MODEL);
    const artifact = await ingestor().ingest({ kind: 'file', tempPath }, TARGET);

    expect(artifact.artifactPath).toBe(join(dataDir, 'models', '7', '1.0.0', 'model.onnx'));
    expect(await readFile(artifact.artifactPath)).toEqual(MODEL);
    expect(artifact.sizeBytes).toBe(MODEL.length);
    expect(artifact.sha256).toBe(MODEL_SHA256);
    expect(artifact.inputs).toEqual([{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32] }]);
    expect(artifact.outputs).toEqual([{ name: 'scores', datatype: 'FP32', shape: [1, 3] }]);
    expect(await exists(tempPath)).toBe(false);
    expect(await filesBelow(dataDir)).toEqual([artifact.artifactPath]); // no partial file left beside it
  });

  it('reports symbolic dimensions as -1 and other element types by their OIP v2 names', async () => {
    const dynamic = await ingestor().ingest({ kind: 'file', tempPath: await upload(dynamicInputOnnx()) }, TARGET);
    expect(dynamic.inputs[0].shape).toEqual([1, 3, -1, -1]);
    const ids = await ingestor().ingest({ kind: 'file', tempPath: await upload(nonImageOnnx()) }, { modelId: 7, version: '2' });
    expect(ids.inputs).toEqual([{ name: 'ids', datatype: 'INT64', shape: [1, 4] }]);
  });

  it('refuses a file that is not a model with a 422 on file, and leaves nothing behind', async () => {
    const tempPath = await upload(brokenOnnx());
    const err = await expect422(ingestor().ingest({ kind: 'file', tempPath }, TARGET), 'file', /not a loadable ONNX model: Protobuf parsing failed/);
    expect(err.localized.en).not.toContain(dataDir); // no server paths in what the client sees
    expect(await filesBelow(dataDir)).toEqual([]);
    expect(await exists(join(dataDir, 'models', '7'))).toBe(false);
    expect(await exists(tempPath)).toBe(false);
  });

  it('refuses an empty file', async () => {
    await expect422(ingestor().ingest({ kind: 'file', tempPath: await upload(Buffer.alloc(0)) }, TARGET), 'file');
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('answers 413 for an upload over the size limit and deletes it', async () => {
    const tempPath = await upload(MODEL);
    await expect(ingestor({ maxArtifactBytes: 100 }).ingest({ kind: 'file', tempPath }, TARGET)).rejects.toMatchObject({
      code: ErrorCode.PayloadTooLarge,
    });
    expect(await exists(tempPath)).toBe(false);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('never replaces a stored version: a second ingest of the same version is a 409', async () => {
    const first = await ingestor().ingest({ kind: 'file', tempPath: await upload(MODEL) }, TARGET);
    const other = colorClassifierOnnx({ height: 8, width: 8 });
    await expect(ingestor().ingest({ kind: 'file', tempPath: await upload(other) }, TARGET)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
    });
    expect(await readFile(first.artifactPath)).toEqual(MODEL);
    expect(await filesBelow(dataDir)).toEqual([first.artifactPath]);
  });

  it('refuses a version that is not a safe folder name with a 400, before writing anything', async () => {
    const tempPath = await upload(MODEL);
    await expect(ingestor().ingest({ kind: 'file', tempPath }, { modelId: 7, version: '../../escape' })).rejects.toMatchObject({
      code: ErrorCode.BadRequest,
    });
    expect(await filesBelow(work.path)).toEqual([]); // the upload is gone too
  });

  it('discard removes the artifact and its now empty folders', async () => {
    const artifact = await ingestor().ingest({ kind: 'file', tempPath: await upload(MODEL) }, TARGET);
    await ingestor().discard(artifact.artifactPath);
    expect(await exists(join(dataDir, 'models', '7'))).toBe(false);
    expect(await exists(join(dataDir, 'models'))).toBe(true);
    await expect(ingestor().discard(join(work.path, 'uploads'))).rejects.toThrow(/not below/);
  });
});

describe('file:// URIs', () => {
  it('copies a model inside an artifact root and leaves the original in place', async () => {
    const source = join(root, 'team', 'classifier.onnx');
    await mkdir(join(root, 'team'));
    await writeFile(source, MODEL);
    const artifact = await ingestor().ingest({ kind: 'uri', uri: pathToFileURL(source).href }, TARGET);
    expect(artifact.sha256).toBe(MODEL_SHA256);
    expect(artifact.sizeBytes).toBe(MODEL.length);
    expect(await readFile(artifact.artifactPath)).toEqual(MODEL);
    expect(await readFile(source)).toEqual(MODEL);
  });

  it('refuses a file outside every root, whether or not it exists', async () => {
    const source = join(outside, 'model.onnx');
    await writeFile(source, MODEL);
    const existing = await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(source).href }, TARGET), 'artifact_uri', /not inside an allowed/);
    const missing = await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(outside, 'nope')).href }, TARGET), 'artifact_uri');
    expect(missing.localized).toEqual(existing.localized); // cannot probe for files elsewhere
    await expect422(ingestor().ingest({ kind: 'uri', uri: `file://${root}/../elsewhere/model.onnx` }, TARGET), 'artifact_uri', /not inside an allowed/);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('refuses a symlink inside a root that points out of it', async () => {
    await writeFile(join(outside, 'secret.onnx'), MODEL);
    await symlink(join(outside, 'secret.onnx'), join(root, 'link.onnx'));
    await symlink(outside, join(root, 'linked-dir'));
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'link.onnx')).href }, TARGET), 'artifact_uri', /not inside an allowed/);
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'linked-dir', 'secret.onnx')).href }, TARGET), 'artifact_uri');
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('follows a symlink that stays inside the root', async () => {
    await writeFile(join(root, 'real.onnx'), MODEL);
    await symlink(join(root, 'real.onnx'), join(root, 'alias.onnx'));
    const artifact = await ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'alias.onnx')).href }, TARGET);
    expect(artifact.sha256).toBe(MODEL_SHA256);
  });

  it('refuses every file:// URI when no roots are configured', async () => {
    await writeFile(join(root, 'model.onnx'), MODEL);
    await expect422(
      ingestor({ artifactRoots: [] }).ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'model.onnx')).href }, TARGET),
      'artifact_uri',
      /RGPU_ARTIFACT_ROOTS/,
    );
  });

  it('refuses a missing file, a directory, and the root itself', async () => {
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'missing.onnx')).href }, TARGET), 'artifact_uri', /does not name an existing/);
    await mkdir(join(root, 'dir'));
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'dir')).href }, TARGET), 'artifact_uri');
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(root).href }, TARGET), 'artifact_uri');
  });

  it('refuses a broken model on artifact_uri and a file over the size limit', async () => {
    await writeFile(join(root, 'broken.onnx'), brokenOnnx());
    await expect422(ingestor().ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'broken.onnx')).href }, TARGET), 'artifact_uri', /not a loadable/);
    await writeFile(join(root, 'model.onnx'), MODEL);
    await expect422(
      ingestor({ maxArtifactBytes: 100 }).ingest({ kind: 'uri', uri: pathToFileURL(join(root, 'model.onnx')).href }, TARGET),
      'artifact_uri',
      /too large/,
    );
    expect(await filesBelow(dataDir)).toEqual([]);
  });
});

describe('http(s) URIs', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];

  function route(req: IncomingMessage, res: ServerResponse): void {
    hits.push(req.url ?? '');
    switch (req.url) {
      case '/model.onnx':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': MODEL.length });
        res.end(MODEL);
        return;
      case '/declared-big':
        res.writeHead(200, { 'content-length': MAX_BYTES + 1 });
        res.write(MODEL);
        return; // the client must give up on the header alone
      case '/chunked-big': {
        res.writeHead(200); // no content-length: only counting while streaming can stop it
        const chunk = Buffer.alloc(16 * 1024, 1);
        for (let i = 0; i < 8; i++) res.write(chunk);
        res.end();
        return;
      }
      case '/redirect':
        res.writeHead(302, { location: '/model.onnx' });
        res.end();
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': MODEL.length });
        res.write(MODEL.subarray(0, 10)); // then nothing, ever
        return;
      case '/broken.onnx':
        res.end(brokenOnnx());
        return;
      default:
        res.writeHead(404);
        res.end('not found');
    }
  }

  beforeAll(async () => {
    server = createServer(route);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    hits.length = 0;
  });

  const open = () => ingestor({ allowPrivateHosts: true });

  it('downloads a model and reports its size, sha256 and signature', async () => {
    const artifact = await open().ingest({ kind: 'uri', uri: `${base}/model.onnx` }, TARGET);
    expect(artifact.sha256).toBe(MODEL_SHA256);
    expect(artifact.sizeBytes).toBe(MODEL.length);
    expect(artifact.outputs).toEqual([{ name: 'scores', datatype: 'FP32', shape: [1, 3] }]);
    expect(await readFile(artifact.artifactPath)).toEqual(MODEL);
  });

  it('refuses loopback hosts by default, by address and by name, without sending a request', async () => {
    await expect422(ingestor().ingest({ kind: 'uri', uri: `${base}/model.onnx` }, TARGET), 'artifact_uri', /internal or loopback/);
    const port = new URL(base).port;
    await expect422(ingestor().ingest({ kind: 'uri', uri: `http://localhost:${port}/model.onnx` }, TARGET), 'artifact_uri', /internal or loopback/);
    await expect422(ingestor().ingest({ kind: 'uri', uri: `http://[::ffff:127.0.0.1]:${port}/model.onnx` }, TARGET), 'artifact_uri', /internal or loopback/);
    expect(hits).toEqual([]);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('refuses a response that declares more than the limit', async () => {
    await expect422(open().ingest({ kind: 'uri', uri: `${base}/declared-big` }, TARGET), 'artifact_uri', /too large/);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('stops a chunked response once it passes the limit', async () => {
    await expect422(open().ingest({ kind: 'uri', uri: `${base}/chunked-big` }, TARGET), 'artifact_uri', /too large; the limit is 65536 bytes/);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('turns a 404 into a 422', async () => {
    await expect422(open().ingest({ kind: 'uri', uri: `${base}/missing.onnx` }, TARGET), 'artifact_uri', /HTTP 404/);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('does not follow redirects', async () => {
    await expect422(open().ingest({ kind: 'uri', uri: `${base}/redirect` }, TARGET), 'artifact_uri', /redirect/);
    expect(hits).toEqual(['/redirect']);
  });

  it('gives up after the fetch timeout', async () => {
    const started = Date.now();
    await expect422(ingestor({ allowPrivateHosts: true, fetchTimeoutMs: 300 }).ingest({ kind: 'uri', uri: `${base}/stall` }, TARGET), 'artifact_uri', /timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('refuses a downloaded file that is not a model', async () => {
    await expect422(open().ingest({ kind: 'uri', uri: `${base}/broken.onnx` }, TARGET), 'artifact_uri', /not a loadable/);
    expect(await filesBelow(dataDir)).toEqual([]);
  });

  it('answers 422 when nothing listens', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await expect422(open().ingest({ kind: 'uri', uri: `http://127.0.0.1:${port}/model.onnx` }, TARGET), 'artifact_uri', /ECONNREFUSED/);
  });
});

describe('other URIs', () => {
  it.each([
    ['ftp://example.com/model.onnx', /scheme "ftp"/],
    ['gopher://example.com/model.onnx', /scheme "gopher"/],
    ['data:application/octet-stream;base64,AAAA', /scheme "data"/],
    ['models/model.onnx', /not an absolute URI/],
    ['/srv/models/model.onnx', /not an absolute URI/],
    ['https://user:secret@example.com/model.onnx', /credentials/],
  ])('refuses %s with a 422 on artifact_uri', async (uri, text) => {
    await expect422(ingestor().ingest({ kind: 'uri', uri }, TARGET), 'artifact_uri', text);
    expect(await filesBelow(dataDir)).toEqual([]);
    expect(await exists(join(dataDir, 'models'))).toBe(false); // refused before any folder was made
  });
});

describe('checkServable (core imageClassifierSignature, plus one run when the model leaves sizes open)', () => {
  const ingest = async (bytes: Buffer, version = '1') => ingestor().ingest({ kind: 'file', tempPath: await upload(bytes) }, { modelId: 7, version });
  const labels = ['red', 'green', 'blue'];

  it('accepts labels that match the classes of a real model, and a dynamic input with an explicit size', async () => {
    await expect(ingestor().checkServable(await ingest(MODEL), { labels, preprocessing: null }, 'file')).resolves.toBeUndefined();
    const dynamic = await ingest(dynamicInputOnnx(), '2');
    const sized = { labels, preprocessing: { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], size: [40, 60] as [number, number] } };
    await expect(ingestor().checkServable(dynamic, sized, 'file')).resolves.toBeUndefined();
  });

  it('refuses labels that do not match the output size with a 422 on labels', async () => {
    const artifact = await ingest(MODEL);
    await expect422(ingestor().checkServable(artifact, { labels: ['cat', 'dog'], preprocessing: null }, 'file'), 'labels', /labels has 2 entries but the model's output "scores" has 3 classes/);
  });

  it('finds a label mismatch hidden behind a dynamic class dimension by running the model once', async () => {
    const artifact = await ingest(colorClassifierOnnx({ dynamicClasses: true }));
    expect(artifact.outputs[0].shape).toEqual([1, -1]);
    await expect(ingestor().checkServable(artifact, { labels, preprocessing: null }, 'file')).resolves.toBeUndefined();
    await expect422(ingestor().checkServable(artifact, { labels: ['a', 'b'], preprocessing: null }, 'file'), 'labels', /model outputs 3 class scores per image/);
  });

  it('requires preprocessing.size for a dynamic input instead of guessing 224×224', async () => {
    const artifact = await ingest(dynamicInputOnnx());
    await expect422(ingestor().checkServable(artifact, { labels, preprocessing: null }, 'file'), 'preprocessing.size', /is required: .*dynamic \[H,W\]/);
  });

  it('refuses a model that is not an image classifier with a 422 on the artifact field', async () => {
    const ids = await ingest(nonImageOnnx());
    await expect422(ingestor().checkServable(ids, { labels: ['a', 'b', 'c', 'd'], preprocessing: null }, 'file'), 'file', /input "ids" is INT64/);
    const batch4 = await ingest(colorClassifierOnnx({ batch: 4 }), '2');
    await expect422(ingestor().checkServable(batch4, { labels, preprocessing: null }, 'artifact_uri'), 'artifact_uri', /fixed batch of 4 images/);
    const map = await ingest(scoreMapOnnx(), '3');
    const sized = { labels: ['text'], preprocessing: { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], size: [224, 224] as [number, number] } };
    await expect422(ingestor().checkServable(map, sized, 'file'), 'file', /a map of scores per image/);
  });
});
