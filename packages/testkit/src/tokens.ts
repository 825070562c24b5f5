import { SignJWT } from 'jose';

export interface TokenClaims {
  sub?: string;
  workspaces?: number[];
  admin?: boolean;
}

export interface SignTokenOptions {
  /** Lifetime from now; default one hour. */
  expiresInSeconds?: number;
  alg?: 'HS256';
}

const DEFAULT_TTL_SECONDS = 3600;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A valid bearer token as the gateway expects it (DESIGN §5): HS256 over `RGPU_JWT_SECRET`. */
export async function signToken(secret: string, claims: TokenClaims, opts: SignTokenOptions = {}): Promise<string> {
  const issuedAt = nowSeconds();
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (opts.expiresInSeconds ?? DEFAULT_TTL_SECONDS))
    .sign(new TextEncoder().encode(secret));
}

/**
 * An `alg: none` token with an empty signature and otherwise valid claims (not expired), so a test that gets
 * a 401 for it proves the algorithm, and nothing else, was rejected.
 */
export function unsignedToken(claims: TokenClaims): string {
  const issuedAt = nowSeconds();
  const header = { alg: 'none', typ: 'JWT' };
  const payload = { ...claims, iat: issuedAt, exp: issuedAt + DEFAULT_TTL_SECONDS };
  return `${base64url(header)}.${base64url(payload)}.`;
}

/** A correctly signed token whose `exp` passed an hour ago (well beyond any clock-skew tolerance). */
export async function expiredToken(secret: string, claims: TokenClaims): Promise<string> {
  const issuedAt = nowSeconds() - 2 * DEFAULT_TTL_SECONDS;
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + DEFAULT_TTL_SECONDS)
    .sign(new TextEncoder().encode(secret));
}

/** A correctly signed token with valid claims but no `exp` at all: verifiers must refuse it (DESIGN §5). */
export async function tokenWithoutExpiry(secret: string, claims: TokenClaims): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSeconds())
    .sign(new TextEncoder().encode(secret));
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
