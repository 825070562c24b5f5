import { describe, expect, it } from 'vitest';
import { hs256Verifier, signToken, type TokenVerifier, type VerifiedPrincipal } from '@remotegpu/auth';
import { isAppError } from '@remotegpu/core';
import { PrincipalCache } from './principal-cache.js';

const SECRET = 'principal-cache-secret-0123456789abcdef';

/** The real verifier, counting how often it runs. */
function countingVerifier(): TokenVerifier & { calls: number } {
  const real = hs256Verifier(SECRET);
  const counting = {
    calls: 0,
    async verify(token: string): Promise<VerifiedPrincipal> {
      counting.calls += 1;
      return real.verify(token);
    },
  };
  return counting;
}

describe('PrincipalCache', () => {
  it('verifies a token once, then answers from memory until the TTL passes', async () => {
    let now = 1_000_000;
    const verifier = countingVerifier();
    const cache = new PrincipalCache({ verifier, ttlMs: 60_000, now: () => now });
    const header = `Bearer ${await signToken(SECRET, { sub: 'alice', workspaces: [3], ttlSeconds: 3600 })}`;
    const alice = { sub: 'alice', workspaces: [3], admin: false, expiresAt: expect.any(Number) };

    expect(cache.cached(header)).toBeUndefined();
    expect(await cache.verify(header)).toEqual(alice);
    expect(cache.cached(header)).toEqual(alice);
    now += 59_000;
    expect(cache.cached(header)).toBeDefined();
    now += 2_000;
    expect(cache.cached(header)).toBeUndefined();
    expect(verifier.calls).toBe(1);
  });

  it('never trusts a token past its exp', async () => {
    const verifier = countingVerifier();
    const clock = { now: Date.now() };
    const cache = new PrincipalCache({ verifier, ttlMs: 60_000, now: () => clock.now });
    const header = `Bearer ${await signToken(SECRET, { sub: 'bob', ttlSeconds: 10 })}`;
    await cache.verify(header);
    clock.now += 9_000;
    expect(cache.cached(header)).toBeDefined();
    clock.now += 2_000;
    expect(cache.cached(header)).toBeUndefined();
  });

  it('does not cache failures and stays within its size bound, evicting the least recently used', async () => {
    const verifier = countingVerifier();
    const clock = { now: Date.now() };
    const cache = new PrincipalCache({ verifier, maxEntries: 2, now: () => clock.now });
    const outcome = await cache.verify('Bearer not.a.jwt').catch((err: unknown) => err);
    expect(isAppError(outcome) && outcome.code).toBe(40100);
    expect(cache.size).toBe(0);

    const headers = await Promise.all(['a', 'b', 'c'].map(async (sub) => `Bearer ${await signToken(SECRET, { sub, ttlSeconds: 3600 })}`));
    await cache.verify(headers[0]);
    await cache.verify(headers[1]);
    clock.now += 1500;
    cache.cached(headers[0]); // a is now more recent than b
    await cache.verify(headers[2]);
    expect(cache.size).toBe(2);
    expect(cache.cached(headers[0])).toBeDefined();
    expect(cache.cached(headers[1])).toBeUndefined();
    expect(cache.cached(headers[2])).toBeDefined();
  });
});
