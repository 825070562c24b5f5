import type { RequestHandler } from 'express';
import { bearerToken, type TokenVerifier } from '@remotegpu/auth';
import { localsOf } from './locals.js';

/** `Authorization: Bearer <jwt>` → `res.locals.principal`; a missing or bad token is a 401 envelope. */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    localsOf(res).principal = await verifier.verify(bearerToken(req.get('authorization')));
    next();
  };
}
