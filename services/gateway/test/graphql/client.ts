/** A minimal GraphQL-over-HTTP client for the tests: raw status, headers and body, nothing hidden. */
export interface GraphqlError {
  message: string;
  path?: (string | number)[];
  extensions: { code: number; status: number; fields?: { field: string; message: string }[]; reason?: string; retryAfter?: number };
}

export interface GraphqlResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  text: string;
  data?: T | null;
  errors?: GraphqlError[];
}

export function graphqlClient(url: string) {
  return async function gql<T = Record<string, any>>(
    query: string,
    opts: { token?: string; variables?: Record<string, unknown>; language?: string; headers?: Record<string, string> } = {},
  ): Promise<GraphqlResponse<T>> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.language ? { 'accept-language': opts.language } : {}),
        ...opts.headers,
      },
      body: JSON.stringify({ query, variables: opts.variables }),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { data?: T | null; errors?: GraphqlError[] };
    return { status: res.status, headers: res.headers, text, data: body.data, errors: body.errors };
  };
}

/** The only error of a response, failing loudly (with the body) when there is none or several. */
export function onlyError(res: GraphqlResponse): GraphqlError {
  if (res.errors?.length !== 1) throw new Error(`expected exactly one error, got: ${res.text}`);
  return res.errors[0];
}
