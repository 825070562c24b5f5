import { getLang, getToken } from './session.store';

/** One field error of the API's envelope: `{code, message, data: {errors: [{field, message}]}}`. */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
  }
  /** Field name → message, for showing each next to its input. */
  byField(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.fieldErrors) out[e.field] ??= e.message;
    return out;
  }
}

type UnauthorizedListener = (message: string) => void;
let onUnauthorized: UnauthorizedListener = () => undefined;
/** The app signs out with the API's message on any 401 (expired or revoked token). */
export function whenUnauthorized(listener: UnauthorizedListener): void {
  onUnauthorized = listener;
}
/** For callers outside api()/gql(): the graphql-ws socket closed 4401/4403 (token expired or refused). */
export function signalUnauthorized(message: string): void {
  onUnauthorized(message);
}

/** The token and language headers every call carries (also for the streamed logs, read without api()). */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return {
    'accept-language': getLang() === 'en' ? 'en' : 'zh-CN',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
}

interface Envelope<T> {
  code: number;
  message: string;
  data: T;
}

/** Calls /api/v1 and unwraps the envelope; a non-2xx answer throws ApiError with the API's own message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: authHeaders() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = authHeaders({ 'content-type': 'application/json' });
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: Partial<Envelope<T & { errors?: FieldError[] }>> = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): fall through with the status text.
  }
  if (!res.ok) {
    const err = new ApiError(res.status, parsed.code ?? res.status * 100, parsed.message ?? res.statusText, parsed.data?.errors ?? []);
    if (res.status === 401) onUnauthorized(err.message);
    throw err;
  }
  return parsed.data as T;
}

/** GraphQL over HTTP with the same token; GraphQL errors throw ApiError with `extensions.code`. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: authHeaders({ 'content-type': 'application/json' }),
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: number } }[];
  };
  const first = body.errors?.[0];
  if (first || !body.data) {
    const err = new ApiError(res.status, first?.extensions?.code ?? res.status * 100, first?.message ?? res.statusText);
    if (res.status === 401 || err.code === 40100) onUnauthorized(err.message);
    throw err;
  }
  return body.data;
}
