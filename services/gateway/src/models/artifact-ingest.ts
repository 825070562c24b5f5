import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { errors, ONNXRUNTIME_ENV, type Preprocessing } from '@remotegpu/core';
import type { ArtifactIngest, ArtifactSource, IngestedArtifact } from '../application/ports.js';
import { artifactErrors, type ArtifactField } from './artifact-errors.js';
import { downloadToFile } from './artifact-fetch.js';
import { openAllowedFile } from './artifact-file-uri.js';
import { digestFile, streamToFile, type FileDigest } from './artifact-sink.js';
import { checkServable, readSignature } from './onnx-signature.js';

export { checkServable } from './onnx-signature.js';

export interface ArtifactIngestOptions {
  /** `RGPU_DATA_DIR`: artifacts live in `${dataDir}/models/${modelId}/${version}/model.onnx`. */
  dataDir: string;
  /** `RGPU_ARTIFACT_ROOTS`: the only directories `file://` URIs may point into; empty refuses every `file://`. */
  artifactRoots: string[];
  maxArtifactBytes: number;
  fetchTimeoutMs: number;
  /** Lets `http(s)://` reach loopback and private networks: for tests and closed on-premise setups only. */
  allowPrivateHosts?: boolean;
}

// One definition of the port's types: this class is the application's `ArtifactIngest` adapter.
export type { ArtifactSource, IngestedArtifact };

export interface ArtifactTarget {
  modelId: number;
  version: string;
}

const ARTIFACT_NAME = 'model.onnx';
// Mirrors core's version rule; checked again here because the version becomes a directory name.
const SAFE_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/**
 * Brings a model artifact into the data directory and proves it loads with onnxruntime.
 *
 * The bytes go to a hidden `.partial` file beside the final one, are hashed on the way, loaded from there, and
 * only a model that loaded is linked to `model.onnx`. Every failure removes what this call wrote, so the data
 * directory never holds a half-written or unloadable artifact.
 */
export class ArtifactIngestor implements ArtifactIngest {
  private readonly modelsDir: string;

  constructor(private readonly opts: ArtifactIngestOptions) {
    this.modelsDir = resolve(opts.dataDir, 'models');
    // The upload checks run onnxruntime in this process: its telemetry must be off before their first session,
    // or it writes to $HOME/.cache and $TMPDIR (outside the data directory) and reports to Microsoft. Process-wide,
    // as onnxruntime's own state is; see ONNXRUNTIME_ENV.
    Object.assign(process.env, ONNXRUNTIME_ENV);
  }

  async ingest(source: ArtifactSource, target: ArtifactTarget): Promise<IngestedArtifact> {
    try {
      const dir = this.versionDir(target);
      // Parsed before anything is written, so a refused URI leaves not even an empty folder behind.
      const origin = source.kind === 'file' ? source : { kind: 'uri' as const, url: parseArtifactUri(source.uri) };
      await mkdir(dir, { recursive: true });
      const partial = join(dir, `.${ARTIFACT_NAME}.${randomUUID()}.partial`);
      try {
        const digest =
          origin.kind === 'file' ? await this.adoptUpload(origin.tempPath, partial) : await this.fetch(origin.url, partial);
        const field: ArtifactField = origin.kind === 'file' ? 'file' : 'artifact_uri';
        const signature = await readSignature(partial, field);
        const artifactPath = join(dir, ARTIFACT_NAME);
        await publish(partial, artifactPath, target.version);
        return { artifactPath, ...digest, ...signature };
      } catch (err) {
        await rm(partial, { force: true });
        await this.removeEmptyDirs(dir);
        throw err;
      }
    } finally {
      // Moved into place on success (then this finds nothing); on any failure the upload must not linger.
      if (source.kind === 'file') await rm(source.tempPath, { force: true });
    }
  }

  /** The application port's form of {@link checkServable}: 422 with every reason predict could not serve it. */
  async checkServable(artifact: IngestedArtifact, version: { labels: string[]; preprocessing: Preprocessing | null }, field: ArtifactField): Promise<void> {
    await checkServable(artifact, version, field);
  }

  /** Removes an artifact this ingestor stored (when its version could not be recorded) and its empty folders. */
  async discard(artifactPath: string): Promise<void> {
    const path = resolve(artifactPath);
    if (!isBelow(this.modelsDir, path)) throw new Error(`refusing to discard ${path}: not below ${this.modelsDir}`);
    await rm(path, { force: true });
    await this.removeEmptyDirs(dirname(path));
  }

  private versionDir(target: ArtifactTarget): string {
    const fields = [];
    if (!Number.isSafeInteger(target.modelId) || target.modelId <= 0) {
      fields.push({ field: 'model_id', message: { zh: '必须是正整数', en: 'must be a positive integer' } });
    }
    if (!SAFE_VERSION.test(target.version)) {
      fields.push({ field: 'version', message: { zh: '版本名称无效', en: 'is not a valid version name' } });
    }
    if (fields.length > 0) throw errors.invalidInput(fields);
    return join(this.modelsDir, String(target.modelId), target.version);
  }

  private async fetch(url: URL, partial: string): Promise<FileDigest> {
    if (url.protocol === 'file:') {
      const handle = await openAllowedFile(url, this.opts.artifactRoots);
      try {
        return await streamToFile(handle.createReadStream(), partial, {
          maxBytes: this.opts.maxArtifactBytes,
          tooLarge: () => artifactErrors.tooLarge('artifact_uri', this.opts.maxArtifactBytes),
        });
      } finally {
        await handle.close().catch(() => undefined); // the stream may have closed it already
      }
    }
    return downloadToFile(url, partial, {
      maxBytes: this.opts.maxArtifactBytes,
      timeoutMs: this.opts.fetchTimeoutMs,
      allowPrivateHosts: this.opts.allowPrivateHosts ?? false,
    });
  }

  /** Moves the upload into place (a rename; a copy when the temp dir is on another file system). */
  private async adoptUpload(tempPath: string, partial: string): Promise<FileDigest> {
    const { size } = await stat(tempPath);
    // The upload is the request body, so too large is 413 here; the multipart parser normally stops it first.
    if (size > this.opts.maxArtifactBytes) throw errors.payloadTooLarge(this.opts.maxArtifactBytes);
    try {
      await rename(tempPath, partial);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      return streamToFile(createReadStream(tempPath), partial, {
        maxBytes: this.opts.maxArtifactBytes,
        tooLarge: () => errors.payloadTooLarge(this.opts.maxArtifactBytes),
      });
    }
    return digestFile(partial);
  }

  /** rmdir, not rm -r: a folder another ingest is writing into is not empty and stays. */
  private async removeEmptyDirs(from: string): Promise<void> {
    for (let dir = from; isBelow(this.modelsDir, dir); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }
}

/**
 * Makes the loaded artifact visible under its final name without ever replacing one: two concurrent
 * registrations of the same version must not overwrite each other's file, so the loser gets a 409.
 * link() is atomic and fails when the name exists; file systems without hard links fall back to a checked rename.
 */
async function publish(partial: string, artifactPath: string, version: string): Promise<void> {
  try {
    await link(partial, artifactPath);
    await unlink(partial);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw errors.duplicateModelVersion(version);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  }
  if (await stat(artifactPath).then(() => true, () => false)) throw errors.duplicateModelVersion(version);
  await rename(partial, artifactPath);
}

/** Only absolute `file:`, `http:` and `https:` URIs; anything else is a 422 on `artifact_uri`. */
export function parseArtifactUri(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw artifactErrors.invalidUri('not an absolute URI');
  }
  switch (url.protocol) {
    case 'file:':
      return url;
    case 'http:':
    case 'https:':
      // The URI is stored as the version's `source` and shown to every reader of the model.
      if (url.username || url.password) throw artifactErrors.invalidUri('credentials in the URI are not accepted');
      return url;
    default:
      throw artifactErrors.unsupportedScheme(url.protocol.replace(/:$/, ''));
  }
}

function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
