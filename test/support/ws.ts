import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What `inferenceServiceStatusChanged` delivers, as a client sees it (enums in upper case). */
export interface StatusEventView {
  serviceId: string;
  status: string;
  previousStatus: string | null;
  reason: string | null;
  message: string | null;
  readyReplicas: number;
  replicas: number;
  at: string;
}

export const STATUS_FIELDS = 'serviceId status previousStatus reason message readyReplicas replicas at';

export const STATUS_SUBSCRIPTION = `subscription Status($id: ID, $workspaceId: Int) {
  inferenceServiceStatusChanged(id: $id, workspaceId: $workspaceId) { ${STATUS_FIELDS} }
}`;

export interface StatusStream {
  events: StatusEventView[];
  /** GraphQL errors or the close that ended the subscription, if it ended. */
  ended: unknown;
  /**
   * Resolves when the socket is acknowledged (the subscribe message goes out right after), or when it closed
   * first (then `ended` says why).
   */
  connected: Promise<void>;
  /** The events of one service, in arrival order. */
  of(serviceId: string): StatusEventView[];
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client on `/graphql` as a user's program would open it (token in `connection_init`), with one
 * status subscription collecting everything it receives. No retries: a refused socket ends the stream.
 */
export function subscribeStatuses(httpUrl: string, token: string, variables: { id?: string; workspaceId?: number } = {}): StatusStream {
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client: Client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: { connected: () => onConnected(), closed: () => onConnected() },
  });
  const stream: StatusStream = {
    events: [],
    ended: undefined,
    connected,
    of: (serviceId) => stream.events.filter((e) => e.serviceId === serviceId),
    dispose: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
  const unsubscribe = client.subscribe<{ inferenceServiceStatusChanged: StatusEventView }>(
    { query: STATUS_SUBSCRIPTION, variables },
    {
      next: (result) => {
        if (result.errors) stream.ended = result.errors;
        if (result.data) stream.events.push(result.data.inferenceServiceStatusChanged);
      },
      error: (error) => {
        // A socket close arrives as a CloseEvent, whose fields do not survive JSON.stringify.
        const close = error as { code?: unknown; reason?: unknown };
        stream.ended = typeof close.code === 'number' ? { code: close.code, reason: String(close.reason) } : error;
      },
      complete: () => {
        stream.ended ??= 'complete';
      },
    },
  );
  return stream;
}

/** The statuses in order with consecutive repeats collapsed (a status may be re-sent with new replica counts). */
export function distinctStatuses(events: readonly StatusEventView[]): string[] {
  return events.map((e) => e.status).filter((status, i, all) => i === 0 || all[i - 1] !== status);
}
