import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { isAppError } from '@remotegpu/core';
import { hs256Verifier, signToken, type TokenClaims } from './jwt.js';

const SECRET = 'auth-unit-secret-0123456789abcdefghij';

async function refusal(token: string) {
  const outcome = await hs256Verifier(SECRET).verify(token).catch((err: unknown) => err);
  if (!isAppError(outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('hs256Verifier', () => {
  it('returns the principal with its token’s expiry', async () => {
    const before = Date.now();
    const principal = await hs256Verifier(SECRET).verify(await signToken(SECRET, { sub: 'alice', workspaces: [4], ttlSeconds: 600 }));
    expect(principal).toEqual({ sub: 'alice', workspaces: [4], admin: false, expiresAt: expect.any(Number) });
    expect(principal.expiresAt).toBeGreaterThan(before + 598_000);
    expect(principal.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('refuses a correctly signed token without exp (401 saying why)', async () => {
    const forever = await new SignJWT({ workspaces: [4], admin: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().sign(new TextEncoder().encode(SECRET));
    const error = await refusal(forever);
    expect(error.code).toBe(40100);
    expect(error.localized.en).toMatch(/no expiry \(exp claim\)/);
  });

  it('refuses an exp that is not a number', async () => {
    const claims: Record<string, unknown> = { workspaces: [4], exp: 'tomorrow' };
    const odd = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode(SECRET));
    expect((await refusal(odd)).code).toBe(40100);
  });
});

describe('signToken', () => {
  it('never issues a token without exp', async () => {
    const untyped = { sub: 'alice', workspaces: [4] } as unknown as TokenClaims; // as plain JavaScript callers might
    await expect(signToken(SECRET, untyped)).rejects.toThrow(/ttlSeconds is required/);
  });
});
