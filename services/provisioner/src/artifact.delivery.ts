import { pathToFileURL } from 'node:url';
import type { ModelVersion } from '@remotegpu/core';
import type { ModelArtifact } from '@remotegpu/runtime';

/**
 * How replicas get a model version's bytes (DESIGN §2.1), decided by the provisioner's configuration:
 *  - `file`: the stored file itself (`file://…`), for a runtime on the gateway's host sharing its data directory
 *    (`npm start`, the local runtime of the distributed mode on one machine);
 *  - `gateway`: over HTTP, for replicas on other hosts (Kubernetes). A version registered from an http(s)
 *    `artifact_uri` is fetched from that URI, as a KServe `storageUri` or a SageMaker `ModelDataUrl` is: the bytes
 *    come from where the user keeps them, not through the control plane, and the sha256 recorded at registration
 *    refuses them if they changed since. Uploads (and `file://` registrations, which only the gateway can read)
 *    come from the gateway's artifact endpoint, with a token the runtime mints per replica start.
 */
export type ArtifactDelivery = { kind: 'file' } | { kind: 'gateway'; baseUrl: string };

export const FILE_DELIVERY: ArtifactDelivery = { kind: 'file' };

export function artifactOf(version: ModelVersion, delivery: ArtifactDelivery): ModelArtifact {
  const base = { sha256: version.sha256, sizeBytes: version.sizeBytes };
  switch (delivery.kind) {
    case 'file':
      return { ...base, uri: pathToFileURL(version.artifactPath).href, access: 'none' };
    case 'gateway':
      if (/^https?:\/\//i.test(version.source)) return { ...base, uri: version.source, access: 'none' };
      return { ...base, uri: gatewayArtifactUrl(delivery.baseUrl, version.modelId, version.version), access: 'artifact_token' };
    default:
      return assertNever(delivery);
  }
}

/** `GET {base}/api/v1/artifacts/{model_id}/{version}` (the gateway's artifact endpoint). */
export function gatewayArtifactUrl(baseUrl: string, modelId: number, version: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/artifacts/${modelId}/${encodeURIComponent(version)}`;
}

function assertNever(value: never): never {
  throw new Error(`unknown artifact delivery ${JSON.stringify(value)}`);
}
