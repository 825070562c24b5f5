import type { Request } from 'express';
import { getOperationAST, parse, type DocumentNode } from './graphql-js.js';
import { AppError, ErrorCode } from '@remotegpu/core';
import { budgetRefusal, type BudgetRefusal, type DocumentBudget } from './document.budget.js';

const SUBSCRIPTION_OVER_HTTP = new AppError(
  ErrorCode.BadRequest,
  {
    zh: '订阅（subscription）通过 WebSocket 提供：请用 graphql-ws 协议（graphql-transport-ws）连接 /graphql；HTTP 只接受查询和变更',
    en: 'Subscriptions use WebSocket: connect to /graphql with the graphql-ws protocol (graphql-transport-ws). HTTP takes queries and mutations only.',
  },
  { reason: 'subscription_over_http' },
);

/** The document and operation name of a GraphQL-over-HTTP request, read as Apollo reads them (POST body, GET query). */
function graphqlRequestOf(req: Request): { query: string; operationName?: string } | undefined {
  const source: unknown = req.method === 'GET' ? req.query : req.body;
  // A batch (array) or a body without a query is Apollo's to refuse, with its own message.
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return undefined;
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value);
  const query = first((source as Record<string, unknown>).query);
  const operationName = first((source as Record<string, unknown>).operationName);
  if (typeof query !== 'string') return undefined;
  return { query, operationName: typeof operationName === 'string' ? operationName : undefined };
}

/**
 * What an HTTP request to /graphql is refused for before Apollo parses and validates it: a document over the
 * linear budget (document.budget.ts), or a subscription, which has no meaning over HTTP and would otherwise
 * reach execution and fail there as an internal error. Parsing twice (here and in Apollo) costs a linear
 * pass over a body the size limit already bounds; a document that does not parse is left to Apollo, which
 * answers syntax errors in its usual form.
 */
export function httpRequestRefusal(req: Request, budget: DocumentBudget): BudgetRefusal | undefined {
  const request = graphqlRequestOf(req);
  if (!request) return undefined;
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch {
    return undefined;
  }
  const overBudget = budgetRefusal(document, budget);
  if (overBudget) return overBudget;
  const operation = getOperationAST(document, request.operationName);
  if (operation?.operation === 'subscription') return { error: SUBSCRIPTION_OVER_HTTP, node: operation };
  return undefined;
}
