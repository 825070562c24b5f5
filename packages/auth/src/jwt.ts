import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { errors } from '@remotegpu/core';
import type { Principal } from './principal.js';

/** Turns a bearer token into a Principal, or throws a 401 AppError. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

const MIN_SECRET_BYTES = 32;

function keyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < MIN_SECRET_BYTES) throw new Error(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

const EXPIRED = { zh: '访问令牌已过期', en: 'The access token has expired' };
const INVALID = { zh: '访问令牌无效', en: 'The access token is invalid' };

/**
 * HS256 only: the algorithm list is fixed, so `alg: none` and algorithm-confusion tokens fail. Claims:
 * `sub` (string), `workspaces` (integers), optional `admin: true`, `exp` honoured when present.
 */
export function hs256Verifier(secret: string): TokenVerifier {
  const key = keyOf(secret);
  return {
    async verify(token: string): Promise<Principal> {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance: 5 }));
      } catch (err) {
        throw errors.unauthenticated(err instanceof joseErrors.JWTExpired ? EXPIRED : INVALID);
      }
      const { sub, workspaces = [], admin = false } = payload;
      const validWorkspaces =
        Array.isArray(workspaces) && workspaces.every((w) => Number.isSafeInteger(w) && (w as number) > 0);
      if (typeof sub !== 'string' || !sub || !validWorkspaces || typeof admin !== 'boolean') {
        throw errors.unauthenticated({
          zh: '访问令牌的声明无效（需要 sub 字符串和 workspaces 整数数组）',
          en: 'The access token claims are invalid (sub must be a string, workspaces an array of integers)',
        });
      }
      return { sub, workspaces: workspaces as number[], admin };
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
  /** Seconds until expiry; omitted → no `exp`. */
  ttlSeconds?: number;
}

export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({ workspaces: claims.workspaces ?? [], ...(claims.admin ? { admin: true } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt();
  if (claims.ttlSeconds !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlSeconds);
  return jwt.sign(keyOf(secret));
}

/** `90s`, `15m`, `24h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use a number followed by s, m, h or d (e.g. 24h)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
