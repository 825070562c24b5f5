import type { Request } from 'express';
import { GraphQLError } from './graphql-js.js';
import { HeaderMap } from '@apollo/server';
import { ErrorCode, isAppError, type AppError, type Language } from '@remotegpu/core';
import type { AppDeps, Principal } from '../application/index.js';
import { bearerToken, type TokenVerifier } from '@remotegpu/auth';
import { languageOf } from '../http/i18n.js';

/** What every resolver receives through `@Ctx()`. */
export interface GraphqlContext {
  principal: Principal;
  deps: AppDeps;
  language: Language;
}

/**
 * Authenticates once per HTTP request. A missing or bad token fails the whole request before any operation
 * runs: Apollo answers errors thrown here with the `extensions.http` status (401) and nothing else.
 */
export function contextFunction(deps: AppDeps, verifier: TokenVerifier) {
  return async ({ req }: { req: Request }): Promise<GraphqlContext> => {
    const language = languageOf(req.headers['accept-language']);
    try {
      const principal = await verifier.verify(bearerToken(req.headers.authorization));
      return { principal, deps, language };
    } catch (err) {
      if (!isAppError(err)) throw err; // a defect, not a bad token: formatError turns it into 50000
      throw requestRefused(err, language);
    }
  };
}

/** An error that ends the request before execution, with the AppError's HTTP status (401 here). */
function requestRefused(appError: AppError, language: Language): GraphQLError {
  const headers = new HeaderMap();
  if (appError.code === ErrorCode.Unauthenticated) headers.set('www-authenticate', 'Bearer');
  return new GraphQLError(appError.localized[language], {
    originalError: appError,
    extensions: { code: appError.code, http: { status: appError.httpStatus, headers } },
  });
}
