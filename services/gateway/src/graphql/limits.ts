import { createRequire } from 'node:module';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from './graphql-js.js';
import type { ComplexityEstimatorArgs } from 'graphql-query-complexity/cjs';
import type { ApolloServerPlugin } from '@apollo/server';
import { AppError, ErrorCode, LIMITS } from '@remotegpu/core';

// graphql-query-complexity is loaded as CommonJS on purpose: its ESM build imports `graphql/index.mjs`, a second
// graphql-js instance beside the CJS one type-graphql and Apollo use, and then rejects our schema ("from another
// module or realm"). `require` gets the same CJS build under Node and under vitest, whose default-import interop
// for CJS differs from Node's.
const { fieldExtensionsEstimator, getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof import('graphql-query-complexity/cjs');

/**
 * The schema-aware cost limit (DESIGN §4), once the operation and its variables are known: page sizes count.
 * It walks the operation with fragments expanded, so it runs only on documents that passed the linear
 * budget check (document.budget.ts), which bounds that expansion. Refuses with 40000 before any resolver runs.
 */

function tooCostly(cost: number, max: number): AppError {
  return new AppError(
    ErrorCode.BadRequest,
    {
      zh: `查询成本 ${cost} 超过上限 ${max}，请减少字段或使用更小的 pageSize`,
      en: `The query costs ${cost}; the limit is ${max}. Request fewer fields or a smaller pageSize.`,
    },
    { reason: 'cost_limit' },
  );
}

/** How many items a paginated field returns at most, for the cost estimate (the same clamp as the core). */
function pageSizeOf(args: Record<string, unknown>): number {
  const requested = typeof args.pageSize === 'number' && args.pageSize >= 1 ? args.pageSize : LIMITS.pageSizeDefault;
  return Math.min(requested, LIMITS.pageSizeMax);
}

/** Cost of a paginated list field: its items' cost times the page size. Use as `complexity` on the field. */
export function pagedComplexity({ args, childComplexity }: ComplexityEstimatorArgs): number {
  return 1 + childComplexity * pageSizeOf(args);
}

/** Cost of an unpaginated list field (events, versions) assuming `expectedItems` entries. */
export function listComplexity(expectedItems: number) {
  return ({ childComplexity }: ComplexityEstimatorArgs): number => 1 + childComplexity * expectedItems;
}

export interface CostedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * The refusal for an operation over the cost limit, or undefined when it fits. Fields without a `complexity`
 * cost 1. A client error while estimating (invalid variables, too many nodes) is a refusal too. Shared by
 * the HTTP plugin below and the graphql-ws server.
 */
export function costRefusal(operation: CostedOperation, maxCost: number): AppError | undefined {
  let cost: number;
  try {
    cost = getComplexity({
      schema: operation.schema,
      query: operation.document,
      operationName: operation.operationName ?? undefined,
      variables: operation.variables ?? {},
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    // GraphQLErrors here are the client's (invalid variables, too many nodes); anything else is a defect
    // and goes on to formatError as a 50000 without its message.
    if (!(err instanceof GraphQLError)) throw err;
    return new AppError(ErrorCode.BadRequest, { zh: err.message, en: err.message });
  }
  return cost > maxCost ? tooCostly(cost, maxCost) : undefined;
}

/** The cost limit runs once the operation is resolved, so variables (`pageSize: $n`) count. */
export function costLimitPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const refusal = costRefusal({ schema, document, operationName: request.operationName, variables: request.variables }, maxCost);
          if (refusal) throw refused(refusal);
        },
      };
    },
  };
}

function refused(error: AppError): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, http: { status: error.httpStatus } },
  });
}
