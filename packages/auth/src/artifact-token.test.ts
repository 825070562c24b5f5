import { describe, expect, it } from 'vitest';
import { decodeJwt, SignJWT } from 'jose';
import { isAppError } from '@remotegpu/core';
import { artifactTokenIssuer, artifactTokenKey, artifactTokenVerifier, grantOpens } from './artifact-token.js';
import { hs256Verifier, signToken } from './jwt.js';

const SECRET = 'artifact-unit-secret-0123456789abcdefghij';
const ARTIFACT = { modelId: 7, version: 'v1.0', sha256: 'ab'.repeat(32) };

async function codeOf(promise: Promise<unknown>): Promise<number> {
  const outcome = await promise.catch((err: unknown) => err);
  if (!isAppError(outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome.code;
}

describe('artifact tokens', () => {
  it('open the one artifact they were issued for, until they expire', async () => {
    const before = Date.now();
    const { token, expiresAt } = artifactTokenIssuer(SECRET, { ttlMs: 60_000 }).issue(ARTIFACT);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 59_000);
    const grant = await artifactTokenVerifier(SECRET).verify(token);
    expect(grant).toEqual({ ...ARTIFACT, expiresAt });
    expect(grantOpens(grant, ARTIFACT)).toBe(true);
    expect(decodeJwt(token)).toMatchObject({ aud: 'rgpu-artifact', sub: 'artifact:7/v1.0', mid: 7, ver: 'v1.0', sha: ARTIFACT.sha256 });
  });

  it('open no other artifact: another model, another version, other bytes', async () => {
    const grant = await artifactTokenVerifier(SECRET).verify(artifactTokenIssuer(SECRET).issue(ARTIFACT).token);
    expect(grantOpens(grant, { modelId: 8, version: 'v1.0' })).toBe(false);
    expect(grantOpens(grant, { modelId: 7, version: 'v1.1' })).toBe(false);
    expect(grantOpens(grant, { ...ARTIFACT, sha256: 'cd'.repeat(32) })).toBe(false);
    expect(grantOpens(grant, { modelId: 7, version: 'v1.0' })).toBe(true);
  });

  it('refuse an expired token, and one signed with another secret, with 401', async () => {
    const past = artifactTokenIssuer(SECRET, { ttlMs: 1_000, now: () => Date.now() - 60_000 }).issue(ARTIFACT).token;
    const outcome = await artifactTokenVerifier(SECRET).verify(past).catch((err: unknown) => err);
    expect(isAppError(outcome) && outcome.code).toBe(40100);
    expect(isAppError(outcome) && outcome.localized.en).toBe('The artifact token has expired');
    const foreign = artifactTokenIssuer('another-platform-secret-0123456789abcdef').issue(ARTIFACT).token;
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(foreign))).toBe(40100);
  });

  it('are no user tokens, and user tokens are no artifact tokens, even under the same secret', async () => {
    const artifactToken = artifactTokenIssuer(SECRET).issue(ARTIFACT).token;
    expect(await codeOf(hs256Verifier(SECRET).verify(artifactToken))).toBe(40100);
    const admin = await signToken(SECRET, { sub: 'admin', admin: true, ttlSeconds: 600 });
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(admin))).toBe(40100);
    // Not even a token with the artifact claims, signed with the platform secret itself (the key is derived).
    const forged = await new SignJWT({ aud: 'rgpu-artifact', mid: 7, ver: 'v1.0', sha: ARTIFACT.sha256 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(forged))).toBe(40100);
  });

  it('refuse a token of the right key but without the artifact audience or claims', async () => {
    const key = artifactTokenKey(SECRET);
    const noAudience = await new SignJWT({ mid: 7, ver: 'v1.0', sha: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(key);
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(noAudience))).toBe(40100);
    const noClaims = await new SignJWT({ aud: 'rgpu-artifact' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(key);
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(noClaims))).toBe(40100);
    const noExpiry = await new SignJWT({ aud: 'rgpu-artifact', mid: 7, ver: 'v1.0', sha: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expect(await codeOf(artifactTokenVerifier(SECRET).verify(noExpiry))).toBe(40100);
  });

  it('derive a key that is not the secret, and refuse a short secret', () => {
    expect(Buffer.from(artifactTokenKey(SECRET)).equals(Buffer.from(SECRET).subarray(0, 32))).toBe(false);
    expect(() => artifactTokenKey('short')).toThrow(/at least 32 bytes/);
  });
});
