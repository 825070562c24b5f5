import { createClient, type Client } from 'graphql-ws';
import { signalUnauthorized } from './api.client';
import { getToken } from './session.store';

/** One status event of `inferenceServiceStatusChanged`, status lower-cased as REST writes it. */
export interface StatusEvent {
  serviceId: string;
  status: string;
  readyReplicas: number;
  replicas: number;
  reason: string | null;
}

let client: Client | null = null;
let clientToken: string | null = null;

/**
 * One graphql-ws socket per signed-in token, shared by every page; the token travels in connection_init (the
 * gateway checks it there). It reconnects by itself; `onState` tells the page whether it is live.
 */
function liveClient(onState: (live: boolean) => void): Client {
  const token = getToken();
  if (client && clientToken === token) return client;
  void client?.dispose();
  clientToken = token;
  client = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => ({ authorization: `Bearer ${getToken() ?? ''}` }),
    retryAttempts: Infinity,
    // 4401/4403: the gateway refused the token or it expired; retrying with it cannot help, signing in again can.
    shouldRetry: (event) => !isAuthClose(event),
    on: {
      connected: () => onState(true),
      closed: (event) => {
        onState(false);
        if (isAuthClose(event)) signalUnauthorized((event as CloseEvent).reason || String((event as CloseEvent).code));
      },
    },
  });
  return client;
}

function isAuthClose(event: unknown): boolean {
  const code = (event as { code?: unknown } | null)?.code;
  return code === 4401 || code === 4403;
}

const QUERY = `subscription { inferenceServiceStatusChanged { serviceId status readyReplicas replicas reason } }`;

/** Calls `onEvent` for every status change this token may see; returns the unsubscribe. */
export function watchStatuses(onEvent: (e: StatusEvent) => void, onState: (live: boolean) => void = () => undefined): () => void {
  return liveClient(onState).subscribe<{ inferenceServiceStatusChanged: StatusEvent }>(
    { query: QUERY },
    {
      next: (msg) => {
        const e = msg.data?.inferenceServiceStatusChanged;
        if (e) onEvent({ ...e, status: e.status.toLowerCase() });
      },
      error: () => onState(false),
      complete: () => undefined,
    },
  );
}

export function closeLive(): void {
  void client?.dispose();
  client = null;
  clientToken = null;
}
