import { fileURLToPath } from 'node:url';
import type { ArtifactTokenIssuer, RuntimeServiceSpec } from './runtime.port.js';

/**
 * The model server's delivery variables (services/model-server/src/server.config.ts), named once for every
 * runtime that starts replicas: the local runtime sets them on a child process, the Kubernetes runtime in a pod
 * template (the token from a Secret, so a token refresh never changes the template).
 */
export const MODEL_SERVER_ENV = {
  /** A file the replica reads as is. */
  path: 'RGPU_MODEL_PATH',
  /** An http(s) URI the replica downloads, verifies and caches; exclusive with `path`. */
  uri: 'RGPU_MODEL_URI',
  /** Required with `uri`: 64 hex digits. */
  sha256: 'RGPU_MODEL_SHA256',
  /** Sent as `Authorization: Bearer` with the download (the gateway's artifact token). A secret. */
  token: 'RGPU_MODEL_TOKEN',
  /** The registered size: a download of any other size is refused as another artifact (and never read past it). */
  sizeBytes: 'RGPU_MODEL_SIZE_BYTES',
  /** The general download limit (default 1 GiB) for a replica started by hand without a registered size. */
  maxBytes: 'RGPU_MODEL_MAX_BYTES',
  /** Where downloads are cached by digest (default `$TMPDIR/rgpu-model-cache`); a pod mounts an emptyDir there. */
  cacheDir: 'RGPU_MODEL_CACHE_DIR',
  /** Whole-download timeout in ms (default 600000). */
  fetchTimeoutMs: 'RGPU_MODEL_FETCH_TIMEOUT_MS',
  /** Where the replica also writes its `failed` line (Kubernetes: `/dev/termination-log`). */
  terminationMessagePath: 'RGPU_TERMINATION_MESSAGE_PATH',
} as const;

/**
 * The non-secret variables that tell a replica where its model is: a `file:` URI becomes a path, an http(s) URI a
 * download with its checksum and registered size. The token, when the artifact needs one, comes from
 * `artifactTokenEnv()`.
 */
export function modelArtifactEnv(model: RuntimeServiceSpec['model']): Record<string, string> {
  const { uri, sha256, sizeBytes } = model.artifact;
  if (uri.startsWith('file:')) return { [MODEL_SERVER_ENV.path]: fileURLToPath(uri) };
  return {
    [MODEL_SERVER_ENV.uri]: uri,
    [MODEL_SERVER_ENV.sha256]: sha256,
    [MODEL_SERVER_ENV.sizeBytes]: String(sizeBytes),
  };
}

/**
 * `RGPU_MODEL_TOKEN` for an artifact that needs one, minted now; empty when it needs none. Without an issuer the
 * replica goes without, and its download is refused (401) with a reason that says so: a configuration problem of
 * the platform that the replica's failure makes visible rather than hides.
 */
export function artifactTokenEnv(model: RuntimeServiceSpec['model'], issuer: ArtifactTokenIssuer | undefined): Record<string, string> {
  if (model.artifact.access !== 'artifact_token' || !issuer) return {};
  const { token } = issuer.issue({ modelId: model.modelId, version: model.version, sha256: model.artifact.sha256 });
  return { [MODEL_SERVER_ENV.token]: token };
}
