import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// The subscription document and its event shape are shared with the end-to-end suites.
import { STATUS_SUBSCRIPTION, type StatusEventView } from '../../../../test/support/ws.js';
export { STATUS_FIELDS, STATUS_SUBSCRIPTION, type StatusEventView } from '../../../../test/support/ws.js';

export interface Closed {
  code: number;
  reason: string;
}

export interface WsClient {
  client: Client;
  /** Resolves with the first close of the socket. */
  closed: Promise<Closed>;
  dispose(): Promise<void>;
}

/**
 * A real graphql-ws client over `ws`, without retries, so a refused connection shows its close code.
 * `connectionParams` is the `connection_init` payload; `token` is shorthand for `{authorization: "Bearer <token>"}`.
 */
export function wsClient(httpUrl: string, opts: { token?: string; connectionParams?: Record<string, unknown>; language?: string } = {}): WsClient {
  const headers = opts.language ? { 'accept-language': opts.language } : {};
  // The WebSocket constructor graphql-ws calls takes (url, protocol); this one adds the upgrade request's headers.
  class WebSocketWithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  let resolveClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocketWithHeaders,
    connectionParams: opts.connectionParams ?? (opts.token ? { authorization: `Bearer ${opts.token}` } : undefined),
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        resolveClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, closed, dispose: async () => client.dispose() };
}

export interface StatusSubscription {
  events: StatusEventView[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  /** Set when the subscription ended with a socket close (the CloseEvent) or completed. */
  ended?: unknown;
  unsubscribe(): void;
}

export function subscribeStatus(
  client: Client,
  variables: { id?: string; workspaceId?: number } = {},
  query: string = STATUS_SUBSCRIPTION,
): StatusSubscription {
  const sub: StatusSubscription = { events: [], errors: [], unsubscribe: () => undefined };
  sub.unsubscribe = client.subscribe<{ inferenceServiceStatusChanged: StatusEventView }>(
    { query, variables },
    {
      next(result) {
        if (result.errors) sub.errors.push(...(result.errors as StatusSubscription['errors']));
        if (result.data) sub.events.push(result.data.inferenceServiceStatusChanged);
      },
      error(error) {
        if (Array.isArray(error)) sub.errors.push(...error);
        sub.ended = error;
      },
      complete() {
        sub.ended ??= 'complete';
      },
    },
  );
  return sub;
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
