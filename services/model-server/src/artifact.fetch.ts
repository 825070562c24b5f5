import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import { ConfigError } from '@remotegpu/core';
import { cachedPath, type ModelSource } from './server.config.js';
import type { FailureParams } from './stdout.protocol.js';

export type UriSource = Extract<ModelSource, { kind: 'uri' }>;

/** A status reason of core's catalog, for the runtime that started this replica (stdout protocol, termination log). */
export interface FailureCause {
  code: string;
  params: FailureParams;
}

/**
 * The downloaded bytes are not the registered ones. A ConfigError (exit 78): downloading again yields the same
 * bytes, so no restart fixes it; the version must be registered again.
 */
export class ArtifactChecksumError extends ConfigError {
  readonly failure: FailureCause;
  constructor(expected: string, actual: string) {
    super([`RGPU_MODEL_SHA256: the artifact downloaded from RGPU_MODEL_URI has sha256 ${actual}, expected ${expected}`]);
    this.failure = { code: 'artifact_checksum_mismatch', params: { expected, actual } };
  }
}

/**
 * The download has another size than the version registered (`RGPU_MODEL_SIZE_BYTES`): another artifact, like a
 * checksum mismatch, found without reading past the registered size. `actual` is `>N` when more bytes kept coming.
 */
export class ArtifactSizeError extends ConfigError {
  readonly failure: FailureCause;
  constructor(expected: number, actual: number | string) {
    super([`RGPU_MODEL_SIZE_BYTES: the artifact at RGPU_MODEL_URI is ${actual} bytes, expected ${expected}`]);
    this.failure = { code: 'artifact_size_mismatch', params: { expected, actual } };
  }
}

/** The download did not complete (refused, unreachable, too large, too slow): exit 1, a later start may succeed. */
export class ArtifactFetchError extends Error {
  readonly failure: FailureCause;
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactFetchError';
    this.failure = { code: 'artifact_fetch_failed', params: { error: message } };
  }
}

/** What an error answer's body may say (our envelope's `message`), bounded: only for the failure message. */
const ERROR_BODY_BYTES = 2_048;

/**
 * The model file of a URI source: from the cache when a file with that digest is there and still hashes to it,
 * else downloaded (no redirects, `maxBytes`, one timeout for the whole download), hashed while it streams to a
 * private partial file, and moved into the cache only when the digest matches. Nothing is left behind on failure.
 */
export async function obtainArtifact(source: UriSource, logger: Logger): Promise<string> {
  await mkdir(source.cacheDir, { recursive: true, mode: 0o700 });
  const target = cachedPath(source.cacheDir, source.sha256);
  if (await isFile(target)) {
    // Hashed again: a cache on a node's disk may have been corrupted or replaced since it was written.
    const digest = await sha256Of(target);
    if (digest === source.sha256) {
      logger.info({ path: target }, 'model artifact from the cache');
      return target;
    }
    logger.warn({ path: target, digest }, 'cached model artifact does not match its digest; downloading it again');
    await rm(target, { force: true });
  }
  const partial = join(source.cacheDir, `.${source.sha256}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const started = Date.now();
  try {
    const { digest, bytes } = await download(source, partial);
    if (digest !== source.sha256) throw new ArtifactChecksumError(source.sha256, digest);
    await rename(partial, target);
    logger.info({ uri: redacted(source.uri), bytes, ms: Date.now() - started }, 'model artifact downloaded and verified');
    return target;
  } finally {
    await rm(partial, { force: true });
  }
}

async function download(source: UriSource, partial: string): Promise<{ digest: string; bytes: number }> {
  const where = redacted(source.uri);
  const signal = AbortSignal.timeout(source.fetchTimeoutMs);
  const timedOut = () => new ArtifactFetchError(`GET ${where}: not complete within ${source.fetchTimeoutMs} ms (RGPU_MODEL_FETCH_TIMEOUT_MS)`);
  let res: Response;
  try {
    res = await fetch(source.uri, {
      // A redirect could lead a replica inside the cluster anywhere; the gateway follows none at registration either.
      redirect: 'manual',
      signal,
      headers: { accept: 'application/octet-stream', ...(source.token ? { authorization: `Bearer ${source.token}` } : {}) },
    });
  } catch (err) {
    if (signal.aborted) throw timedOut();
    throw new ArtifactFetchError(`GET ${where}: ${causeText(err)}`);
  }
  if (res.status !== 200 || !res.body) {
    const detail = res.status >= 300 && res.status < 400 ? `redirects are not followed (to ${res.headers.get('location') ?? '?'})` : await errorDetail(res);
    await res.body?.cancel().catch(() => undefined);
    throw new ArtifactFetchError(`GET ${where} answered ${res.status}${detail ? `: ${detail}` : ''}`);
  }
  const announced = Number(res.headers.get('content-length') ?? NaN);
  const expected = source.sizeBytes;
  if (expected !== null && Number.isSafeInteger(announced) && announced !== expected) {
    await res.body.cancel().catch(() => undefined);
    throw new ArtifactSizeError(expected, announced);
  }
  if (announced > source.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge(where, `${announced} bytes`, source.maxBytes);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (expected !== null && bytes > expected) return done(new ArtifactSizeError(expected, `>${expected}`));
      if (bytes > source.maxBytes) return done(tooLarge(where, `more than ${source.maxBytes} bytes`, source.maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    if (err instanceof ArtifactFetchError || err instanceof ArtifactSizeError) throw err;
    if (signal.aborted) throw timedOut();
    throw new ArtifactFetchError(`GET ${where}: the download broke off after ${bytes} bytes: ${causeText(err)}`);
  }
  if (expected !== null && bytes !== expected) throw new ArtifactSizeError(expected, bytes);
  return { digest: hash.digest('hex'), bytes };
}

function tooLarge(where: string, size: string, limit: number): ArtifactFetchError {
  return new ArtifactFetchError(`GET ${where}: the artifact is ${size}, larger than the ${limit} bytes allowed (RGPU_MODEL_MAX_BYTES)`);
}

/** The `message` of our error envelope, else the start of the body as text; never more than a couple of KB read. */
async function errorDetail(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // The body is only decoration for the message.
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // not our envelope
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** Scheme, host and path: a query string may hold a pre-signed URL's signature, which logs must not keep. */
export function redacted(uri: string): string {
  const url = new URL(uri);
  return `${url.origin}${url.pathname}`;
}

function causeText(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
