import { bearerToken, type Principal, type TokenVerifier } from '@remotegpu/auth';

export interface PrincipalCacheOptions {
  verifier: TokenVerifier;
  /** Longest time a verified token is trusted without verifying it again (never past its `exp`). */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  principal: Principal;
  expiresAt: number;
  /** When it last moved to the young end of the LRU order. */
  touchedAt: number;
}

/**
 * Verified principals keyed by the raw `Authorization` header value, so a hit costs one Map lookup instead of
 * a regex, a base64 decode and an HMAC. A bounded LRU (Map keeps insertion order; a hit re-inserts) so a
 * flood of distinct tokens cannot grow it without limit. Failures are not cached: a bad token costs the
 * same as at the API, and a token that becomes valid (clock skew) is not stuck.
 */
export class PrincipalCache {
  private readonly verifier: TokenVerifier;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: PrincipalCacheOptions) {
    this.verifier = options.verifier;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The cached principal for this header, or undefined (then call `verify`). Synchronous: the hot path. */
  cached(authorization: string | undefined): Principal | undefined {
    if (authorization === undefined) return undefined;
    const entry = this.entries.get(authorization);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.entries.delete(authorization);
      return undefined;
    }
    // Re-inserting on every hit costs more than the lookup; once a second is recent enough for eviction.
    if (now - entry.touchedAt > 1000) {
      entry.touchedAt = now;
      this.entries.delete(authorization);
      this.entries.set(authorization, entry);
    }
    return entry.principal;
  }

  /** Verifies the header's token (401 AppError when missing or bad) and remembers the result. */
  async verify(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    const principal = await this.verifier.verify(token);
    const expiresAt = Math.min(this.now() + this.ttlMs, principal.expiresAt);
    if (authorization !== undefined && expiresAt > this.now()) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(authorization, { principal, expiresAt, touchedAt: this.now() });
    }
    return principal;
  }

  get size(): number {
    return this.entries.size;
  }
}
