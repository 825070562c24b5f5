import type { GraphQLFormattedError } from './graphql-js.js';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { ErrorCode, errors, httpStatusOf, isAppError, retryAfterSeconds, type AppError, type Language } from '@remotegpu/core';

/**
 * `extensions` of every GraphQL error this API returns (DESIGN §4: the same codes as REST):
 * `{ code: 40400, status: 404, fields?: [{ field, message }], reason?, retryAfter? }`. `code` is always a
 * number; `fields` name the REST (snake_case) fields because inputs run through the same core validators.
 */
export interface ErrorExtensions {
  code: number;
  status: number;
  fields?: { field: string; message: string }[];
  reason?: string;
  retryAfter?: number;
}

/** Apollo's own refusals of a request (parse, validation, variables, CSRF, bad HTTP request): the client's fault. */
const APOLLO_CLIENT_ERRORS: ReadonlySet<unknown> = new Set<string>([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
]);

/** graphql-js wraps resolver errors, Apollo wraps validation errors: the AppError is a few `originalError`s down. */
function appErrorIn(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (isAppError(current)) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

function originalOf(error: unknown): unknown {
  const original = (error as { originalError?: unknown } | null)?.originalError;
  return original ?? error;
}

export function extensionsOf(error: AppError, language: Language): ErrorExtensions {
  const extensions: ErrorExtensions = { code: error.code, status: error.httpStatus };
  if (error.fields.length) extensions.fields = error.fields.map((f) => ({ field: f.field, message: f.message[language] }));
  if (error.reason) extensions.reason = error.reason;
  const retryAfter = retryAfterSeconds(error); // the whole seconds REST puts in Retry-After
  if (retryAfter !== undefined) extensions.retryAfter = retryAfter;
  return extensions;
}

/**
 * Apollo's `formatError`. Only three shapes leave the server: an AppError (localized message, its code), one
 * of Apollo's request refusals (40000 with graphql-js's message), or 50000 "Internal server error" — any
 * other message might carry internals, so it is logged and replaced. Stack traces are never included.
 */
export function errorFormatter(options: { language: () => Language; logger: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const language = options.language();
    const where = { ...(formatted.locations && { locations: formatted.locations }), ...(formatted.path && { path: formatted.path }) };
    const appError = appErrorIn(error);
    if (appError && appError.code !== ErrorCode.Internal) {
      return { message: appError.localized[language], ...where, extensions: { ...extensionsOf(appError, language) } };
    }
    const code = formatted.extensions?.code;
    if (!appError && APOLLO_CLIENT_ERRORS.has(code)) {
      const extensions: ErrorExtensions = { code: ErrorCode.BadRequest, status: httpStatusOf(ErrorCode.BadRequest) };
      return { message: formatted.message, ...where, extensions: { ...extensions } };
    }
    options.logger.error({ err: appError?.cause ?? originalOf(error), path: formatted.path }, 'graphql: internal error');
    const internal = errors.internal();
    return { message: internal.localized[language], ...where, extensions: { ...extensionsOf(internal, language) } };
  };
}
