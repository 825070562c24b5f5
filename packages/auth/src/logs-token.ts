import { hkdfSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/**
 * Logs tokens: what a gateway shows a provisioner's internal logs endpoint (distributed mode: the replicas, and
 * so their logs, live with the provisioner's runtime). The gateway checks the user and the workspace first, then
 * mints a token for one service for a minute; the provisioner serves only that service's lines to it.
 *
 * HS256 under a key derived with HKDF from the secret both already share for artifact tokens
 * (`RGPU_ARTIFACT_SECRET`, else `RGPU_JWT_SECRET`) and a purpose label of its own, so it is neither a user token
 * nor an artifact token and they are not it.
 */
const PURPOSE = 'remotegpu logs token v1';
const AUDIENCE = 'rgpu-logs';
const TTL_SECONDS = 60;

function logsTokenKey(secret: string): Uint8Array {
  const ikm = Buffer.from(secret, 'utf8');
  if (ikm.length < 32) throw new Error('the logs token secret must be at least 32 bytes');
  return new Uint8Array(hkdfSync('sha256', ikm, Buffer.alloc(0), PURPOSE, 32));
}

export function logsTokenIssuer(secret: string): { issue(serviceId: string): Promise<string> } {
  const key = logsTokenKey(secret);
  return {
    issue: (serviceId) =>
      new SignJWT({ aud: AUDIENCE, sub: serviceId }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(`${TTL_SECONDS}s`).sign(key),
  };
}

/** True only for a valid, unexpired logs token minted for exactly this service. */
export function logsTokenVerifier(secret: string): { opens(token: string, serviceId: string): Promise<boolean> } {
  const key = logsTokenKey(secret);
  return {
    async opens(token, serviceId) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: AUDIENCE, requiredClaims: ['exp'], clockTolerance: 5 });
        return payload.sub === serviceId;
      } catch {
        return false;
      }
    },
  };
}
