import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { errors } from '@remotegpu/core';
import type { VerifiedPrincipal } from './principal.js';

/** Turns a bearer token into a Principal (with its expiry), or throws a 401 AppError. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedPrincipal>;
}

const MIN_SECRET_BYTES = 32;

function keyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < MIN_SECRET_BYTES) throw new Error(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

const EXPIRED = { zh: '访问令牌已过期', en: 'The access token has expired' };
const INVALID = { zh: '访问令牌无效', en: 'The access token is invalid' };
const NO_EXPIRY = {
  zh: '访问令牌没有过期时间（exp），不被接受：请签发带有效期的令牌，例如 npm run token -- --ttl 24h',
  en: 'The access token has no expiry (exp claim) and is not accepted: issue tokens with a lifetime, e.g. npm run token -- --ttl 24h',
};

/** The 401 for a token jose refused, saying why where that helps the caller fix it. */
function refusal(err: unknown) {
  if (err instanceof joseErrors.JWTExpired) return errors.unauthenticated(EXPIRED);
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp') return errors.unauthenticated(NO_EXPIRY);
  return errors.unauthenticated(INVALID);
}

/**
 * HS256 only: the algorithm list is fixed, so `alg: none` and algorithm-confusion tokens fail. Claims:
 * `sub` (string), `workspaces` (integers), optional `admin: true`, and `exp`, which is required: a token that
 * never expires cannot be revoked by waiting, and a stolen one would work forever (DESIGN §5).
 */
export function hs256Verifier(secret: string): TokenVerifier {
  const key = keyOf(secret);
  return {
    async verify(token: string): Promise<VerifiedPrincipal> {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['exp'] }));
      } catch (err) {
        throw refusal(err);
      }
      const { sub, workspaces = [], admin = false, exp } = payload;
      const validWorkspaces =
        Array.isArray(workspaces) && workspaces.every((w) => Number.isSafeInteger(w) && (w as number) > 0);
      if (typeof sub !== 'string' || !sub || !validWorkspaces || typeof admin !== 'boolean') {
        throw errors.unauthenticated({
          zh: '访问令牌的声明无效（需要 sub 字符串和 workspaces 整数数组）',
          en: 'The access token claims are invalid (sub must be a string, workspaces an array of integers)',
        });
      }
      // jose checked that `exp` is present and a number.
      return { sub, workspaces: workspaces as number[], admin, expiresAt: (exp as number) * 1000 };
    },
  };
}

/** Extracts the token of an `Authorization: Bearer <jwt>` header value; 401 when absent or malformed. */
export function bearerToken(header: string | undefined | null): string {
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(header ?? '');
  if (!match) {
    throw errors.unauthenticated({
      zh: '缺少访问令牌：请使用 Authorization: Bearer <token> 请求头',
      en: 'Missing access token: send an Authorization: Bearer <token> header',
    });
  }
  return match[1];
}

export interface TokenClaims {
  sub: string;
  workspaces?: number[];
  admin?: boolean;
  /** Seconds until expiry (`exp`); required, since verifiers refuse tokens without one. */
  ttlSeconds: number;
}

export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  // Callers in plain JavaScript (scripts, benchmarks) are not type-checked: fail here, not with a 401 later.
  if (!Number.isFinite(claims.ttlSeconds)) throw new Error('signToken: ttlSeconds is required (tokens without exp are refused)');
  const jwt = new SignJWT({ workspaces: claims.workspaces ?? [], ...(claims.admin ? { admin: true } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlSeconds);
  return jwt.sign(keyOf(secret));
}

/** `90s`, `15m`, `24h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use a number followed by s, m, h or d (e.g. 24h)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
