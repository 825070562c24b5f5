import type { Request, Response } from 'express';
import { GraphQLError, type ASTNode } from './graphql-js.js';
import { HeaderMap } from '@apollo/server';
import { ErrorCode, isAppError, type AppError, type Language } from '@remotegpu/core';
import type { AppDeps, CallTrace, Principal } from '../application/index.js';
import { localsOf } from '../http/locals.js';
import { bearerToken, type TokenVerifier } from '@remotegpu/auth';
import { languageOf } from '../http/i18n.js';
import type { DocumentBudget } from './document.budget.js';
import { httpRequestRefusal } from './request.guard.js';

/** What every resolver receives through `@Ctx()`. */
export interface GraphqlContext {
  principal: Principal;
  deps: AppDeps;
  language: Language;
  /** The HTTP request's id (x-request-id), carried into intents; graphql-ws operations have none. */
  trace?: CallTrace;
  /** The caller's Authorization header, which predict hands on to a router in another process. */
  authorization?: string;
}

/**
 * Authenticates once per HTTP request, then checks the document against the linear budget and refuses
 * subscriptions (request.guard.ts). Both fail the whole request before Apollo parses and validates: this is
 * the one Apollo hook that runs that early and can answer with a status (401, 400) and nothing else.
 */
export function contextFunction(deps: AppDeps, verifier: TokenVerifier, budget: DocumentBudget) {
  return async ({ req, res }: { req: Request; res: Response }): Promise<GraphqlContext> => {
    const language = languageOf(req.headers['accept-language']);
    let principal: Principal;
    try {
      principal = await verifier.verify(bearerToken(req.headers.authorization));
    } catch (err) {
      if (!isAppError(err)) throw err; // a defect, not a bad token: formatError turns it into 50000
      throw requestRefused(err, language);
    }
    const refusal = httpRequestRefusal(req, budget);
    if (refusal) throw requestRefused(refusal.error, language, refusal.node);
    return { principal, deps, language, trace: { requestId: localsOf(res).requestId }, authorization: req.headers.authorization };
  };
}

/** An error that ends the request before execution, with the AppError's HTTP status (401, 400). */
function requestRefused(appError: AppError, language: Language, node?: ASTNode): GraphQLError {
  const headers = new HeaderMap();
  if (appError.code === ErrorCode.Unauthenticated) headers.set('www-authenticate', 'Bearer');
  return new GraphQLError(appError.localized[language], {
    nodes: node,
    originalError: appError,
    extensions: { code: appError.code, http: { status: appError.httpStatus, headers } },
  });
}
