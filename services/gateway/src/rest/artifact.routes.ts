import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { bearerToken, grantOpens, type ArtifactGrant, type ArtifactTokenVerifier } from '@remotegpu/auth';
import { AppError, ErrorCode, errors, type ModelVersion } from '@remotegpu/core';
import type { Logger } from 'pino';
import type { Store } from '@remotegpu/store';
import { recordRouteBase } from '../http/route-pattern.js';
import { methodNotAllowed } from '../http/method-not-allowed.js';
import { logOf } from '../http/locals.js';
import { modelIdParam } from './route-params.js';

export interface ArtifactRouteDeps {
  store: Store;
  tokens: ArtifactTokenVerifier;
  logger: Logger;
}

/**
 * `GET /api/v1/artifacts/{model_id}/{version}`: a model version's bytes, for replicas on other hosts (DESIGN §2.1).
 * It takes only artifact tokens (`Authorization: Bearer`, never a query parameter, which access logs and proxies
 * keep), each minted by the platform for one replica start and scoped to one artifact: no user token opens it, and
 * no artifact token opens anything else here or on the API. A token for another artifact, an unknown version and a
 * version whose registered sha256 is not the one the token was minted for are all the same 404.
 *
 * The bytes come from this gateway's data directory (`$RGPU_DATA_DIR/models/…`), where uploads are stored: several
 * gateways serve every artifact only when they share that volume (README, deploy/kubernetes).
 */
export function artifactRoutes(deps: ArtifactRouteDeps): Router {
  const router = Router();
  router.use(recordRouteBase);
  // The token first, for every path and method here, so an anonymous caller learns nothing (as under /api/v1).
  router.use(async (req, res, next) => {
    grants.set(res, await deps.tokens.verify(bearerToken(req.get('authorization'))));
    next();
  });
  router.get('/:model_id/:version', async (req, res) => {
    const modelId = modelIdParam(req.params.model_id);
    const version = typeof req.params.version === 'string' ? req.params.version : '';
    const grant = grants.get(res)!;
    const record = grantOpens(grant, { modelId, version }) ? await deps.store.models.getVersion(modelId, version) : null;
    // Another artifact, an unknown version, other bytes than the token was minted for: all the same 404.
    if (!record || !grantOpens(grant, record)) throw errors.artifactNotFound(modelId, version);
    const size = await sizeOf(record);
    if (size === null) throw notOnThisGateway(modelId, version);
    res.status(200).set({
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      // The registered digest, for clients that check before they read (the model server hashes what it reads).
      etag: `"sha256:${record.sha256}"`,
      'x-checksum-sha256': record.sha256,
      'cache-control': 'private, no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    logOf(res, deps.logger).info({ modelId, version, bytes: size, tokenExpiresAt: new Date(grant.expiresAt).toISOString() }, 'artifact download');
    // A replica that goes away mid-download ends the pipeline with an error; the connection is gone, nothing to answer.
    await pipeline(createReadStream(record.artifactPath), res).catch(() => res.destroy());
  });
  router.use(methodNotAllowed(router));
  router.use((req) => {
    throw errors.routeNotFound(req.originalUrl.split('?')[0].slice(0, 200));
  });
  return router;
}

/** The verified grant of each request, beside it (res.locals is typed for the user-facing routes). */
const grants = new WeakMap<object, ArtifactGrant>();

async function sizeOf(record: ModelVersion): Promise<number | null> {
  try {
    const info = await stat(record.artifactPath);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/**
 * The record exists, the file does not: this gateway does not hold the data volume the upload went to. Still a
 * 404 (nothing here to serve), worded so that the replica's failure tells an operator what to fix.
 */
function notOnThisGateway(modelId: number, version: string): AppError {
  const { zh, en } = errors.artifactNotFound(modelId, version).localized;
  return new AppError(ErrorCode.NotFound, {
    zh: `${zh}（该文件不在此网关的数据目录中：多个网关须共享 RGPU_DATA_DIR 所在的卷）`,
    en: `${en} (the file is not in this gateway's data directory: several gateways must share the RGPU_DATA_DIR volume)`,
  });
}
