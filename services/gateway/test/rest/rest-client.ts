/** A small fetch wrapper for the REST suites: every answer comes back with its status, headers, raw text and JSON. */

export interface Envelope<T = unknown> {
  code: number;
  message: string;
  data?: T;
}

export interface FieldErrors {
  errors: { field: string; message: string }[];
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: Envelope<T>;
}

export interface ApiRequest {
  token?: string;
  /** JSON-encoded unless it is a string, FormData or Buffer (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Content type for a string/Buffer body; `null` sends none at all. */
  contentType?: string | null;
}

export function restClient(baseUrl: string) {
  return async function api<T = unknown>(method: string, path: string, req: ApiRequest = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    let body: RequestInit['body'];
    if (req.body instanceof FormData) body = req.body;
    else if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
      body = typeof req.body === 'string' ? req.body : new Uint8Array(req.body);
      if (req.contentType !== null) headers['content-type'] = req.contentType ?? 'application/json';
    } else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      if (req.contentType !== null) headers['content-type'] = req.contentType ?? 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: Envelope<T>;
    try {
      parsed = text ? (JSON.parse(text) as Envelope<T>) : ({} as Envelope<T>);
    } catch {
      parsed = {} as Envelope<T>;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
}

export type Api = ReturnType<typeof restClient>;

/** Field names of a 400/409/422 envelope's `data.errors`. */
export function fieldsOf(res: ApiResponse): string[] {
  return ((res.body.data as FieldErrors | undefined)?.errors ?? []).map((e) => e.field);
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
export const SERVICE_ID = /^svc-[a-z0-9]{10,}$/;
