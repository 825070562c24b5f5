/** A thin client of the platform's REST API: the `{code, message, data}` envelope, bearer token, language. */

export interface FieldError {
  field: string;
  message: string;
}

/** An answer the API refused: its HTTP status and the envelope's code and message (in the requested language). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiOptions {
  url: string;
  token?: string;
  /** `zh` or `en`; absent leaves the platform's default (Chinese). */
  lang?: string;
}

interface Envelope {
  code: number;
  message: string;
  data?: unknown;
}

function isEnvelope(v: unknown): v is Envelope {
  return !!v && typeof v === 'object' && typeof (v as Envelope).code === 'number' && typeof (v as Envelope).message === 'string';
}

export class ApiClient {
  constructor(readonly options: ApiOptions) {}

  get baseUrl(): string {
    return this.options.url.replace(/\/+$/, '');
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.options.token) h.authorization = `Bearer ${this.options.token}`;
    if (this.options.lang) h['accept-language'] = this.options.lang;
    return h;
  }

  /** Raw fetch under /api/v1 with auth and language; network failures become an ApiError with status 0. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}/api/v1${path}`, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new ApiError(0, 0, `cannot reach ${this.baseUrl}: ${cause}`);
    }
  }

  /** Sends a request and returns the envelope's `data` (the whole envelope for answers without data). */
  async request<T = unknown>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<{ message: string; data: T }> {
    const init: RequestInit = { method, headers: { ...extraHeaders } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await this.fetch(path, init);
    if (res.status === 204) return { message: '', data: undefined as T };
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw toApiError(res.status, parsed, text);
    if (!isEnvelope(parsed)) throw new ApiError(res.status, 0, `unexpected answer from ${path} (HTTP ${res.status})`);
    return { message: parsed.message, data: parsed.data as T };
  }
}

export function toApiError(status: number, parsed: unknown, text: string): ApiError {
  if (isEnvelope(parsed)) {
    const data = parsed.data as { errors?: FieldError[] } | undefined;
    return new ApiError(status, parsed.code, parsed.message, Array.isArray(data?.errors) ? data.errors : []);
  }
  return new ApiError(status, 0, `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
