import { createHmac, hkdfSync } from 'node:crypto';
import { jwtVerify, errors as joseErrors } from 'jose';
import { errors } from '@remotegpu/core';

/**
 * Artifact tokens: what a replica on another host shows the gateway's artifact endpoint to download its model
 * (DESIGN §2.1). One token opens one artifact — a model id, a version and the sha256 registered for it — for a
 * short time, and nothing else: no API route, no other artifact.
 *
 * They are HS256 JWTs under a key of their own, derived with HKDF-SHA256 from `RGPU_ARTIFACT_SECRET` (or, when
 * that is unset, from `RGPU_JWT_SECRET`) with a purpose label. So an artifact token fails the signature check of
 * user tokens and a user token fails this one, even when an operator sets both variables to the same value; and a
 * replica only ever holds its own token, never a secret that could mint another. The `aud` claim says the same in
 * words, for whoever decodes one.
 */
const PURPOSE = 'remotegpu artifact token v1';
const AUDIENCE = 'rgpu-artifact';
const MIN_SECRET_BYTES = 32;

export interface ArtifactRef {
  modelId: number;
  version: string;
  /** Lowercase hex, as registered. */
  sha256: string;
}

export interface ArtifactGrant extends ArtifactRef {
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** The signing key of artifact tokens: never the platform secret itself. */
export function artifactTokenKey(secret: string): Uint8Array {
  const ikm = Buffer.from(secret, 'utf8');
  if (ikm.length < MIN_SECRET_BYTES) throw new Error(`the artifact token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return new Uint8Array(hkdfSync('sha256', ikm, Buffer.alloc(0), PURPOSE, 32));
}

export interface ArtifactTokenIssuerOptions {
  /** How long a token opens its artifact (default 1 hour: a replica downloads at start, then never again). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Mints artifact tokens. Synchronous (a runtime mints one while it starts a replica): HS256 is one HMAC, written
 * here with node:crypto; verification goes through jose like every other token of the platform.
 */
export function artifactTokenIssuer(secret: string, options: ArtifactTokenIssuerOptions = {}) {
  const key = artifactTokenKey(secret);
  const ttlMs = options.ttlMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  if (!(Number.isInteger(ttlMs) && ttlMs >= 1_000)) throw new Error('artifact token ttlMs must be an integer of at least 1000');
  return {
    issue(artifact: ArtifactRef): { token: string; expiresAt: number } {
      const issuedAt = Math.floor(now() / 1000);
      const exp = issuedAt + Math.ceil(ttlMs / 1000);
      const header = { alg: 'HS256', typ: 'JWT' };
      const payload = {
        aud: AUDIENCE,
        sub: `artifact:${artifact.modelId}/${artifact.version}`,
        mid: artifact.modelId,
        ver: artifact.version,
        sha: artifact.sha256,
        iat: issuedAt,
        exp,
      };
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      const signature = createHmac('sha256', key).update(signingInput).digest('base64url');
      return { token: `${signingInput}.${signature}`, expiresAt: exp * 1000 };
    },
  };
}

export interface ArtifactTokenVerifier {
  /** The grant of a valid artifact token; 401 for anything else (bad signature — a user token included —, expired, malformed). */
  verify(token: string): Promise<ArtifactGrant>;
}

/**
 * Whether a grant opens this artifact. A valid token for another artifact is refused by its caller with 404, as any
 * object the caller may not see is "not found" on this platform.
 */
export function grantOpens(grant: ArtifactGrant, requested: { modelId: number; version: string; sha256?: string }): boolean {
  return (
    grant.modelId === requested.modelId &&
    grant.version === requested.version &&
    (requested.sha256 === undefined || grant.sha256 === requested.sha256)
  );
}

const EXPIRED = { zh: '模型文件访问令牌已过期', en: 'The artifact token has expired' };
const INVALID = {
  zh: '模型文件访问令牌无效（此接口只接受平台为副本签发的模型文件令牌，不接受用户令牌）',
  en: 'The artifact token is invalid (this endpoint takes only the artifact tokens the platform issues to replicas, not user tokens)',
};

export function artifactTokenVerifier(secret: string): ArtifactTokenVerifier {
  const key = artifactTokenKey(secret);
  return {
    async verify(token) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: AUDIENCE, requiredClaims: ['exp'], clockTolerance: 5 }));
      } catch (err) {
        throw errors.unauthenticated(err instanceof joseErrors.JWTExpired ? EXPIRED : INVALID);
      }
      const { mid, ver, sha, exp } = payload;
      if (!Number.isSafeInteger(mid) || typeof ver !== 'string' || typeof sha !== 'string') throw errors.unauthenticated(INVALID);
      return { modelId: mid as number, version: ver, sha256: sha, expiresAt: (exp as number) * 1000 };
    },
  };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
