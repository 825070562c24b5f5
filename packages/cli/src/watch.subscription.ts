import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ApiError, type ApiClient } from './api.client.js';
import type { ServiceDetail } from './api.types.js';

export interface StatusChange {
  status: string;
  reason: string | null;
  message: string | null;
  readyReplicas: number;
  replicas: number;
  at: string;
}

const SUBSCRIPTION = `subscription Watch($id: ID) {
  inferenceServiceStatusChanged(id: $id) { status reason message readyReplicas replicas at }
}`;


/** What a watch waits for: `running` with every replica ready (create, start, watch), or `stopped` (stop --wait). */
export type WatchTarget = 'running' | 'stopped';

/** The target reached, or a state the target cannot follow without someone acting. */
function isFinal(c: StatusChange, target: WatchTarget): boolean {
  if (c.status === 'failed') return true;
  if (target === 'running') return c.status === 'stopped' || (c.status === 'running' && c.readyReplicas >= c.replicas);
  return c.status === 'stopped';
}

/**
 * Follows a service until it reaches `target` or a final state that is not it (resolves either way; the caller
 * decides the exit code), printing each change through `onChange`. The subscription is opened first and the current state read
 * after it is acknowledged, so a change between the two is never missed; a `running` that is not yet fully ready
 * (ready < desired) is not final. The token travels in `connection_init`, as the platform expects.
 */
export async function watchService(api: ApiClient, id: string, onChange: (c: StatusChange) => void, timeoutMs: number, target: WatchTarget = 'running'): Promise<StatusChange> {
  const wsUrl = `${api.baseUrl.replace(/^http/, 'ws')}/graphql`;
  const connectionParams = { authorization: `Bearer ${api.options.token ?? ''}` };
  // The gateway words subscription messages in the upgrade request's Accept-Language.
  const headers: Record<string, string> = api.options.lang ? { 'accept-language': api.options.lang } : {};
  class LocalizedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  let acked!: () => void;
  const connected = new Promise<void>((resolve) => (acked = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: LocalizedWebSocket,
    connectionParams,
    lazy: true,
    retryAttempts: 0,
    on: { connected: () => acked() },
  });
  let last: StatusChange | undefined;
  const done = (c: StatusChange) => isFinal(c, target);
  try {
    return await new Promise<StatusChange>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ApiError(0, 0, `timed out after ${Math.round(timeoutMs / 1000)} s; last status: ${last?.status ?? 'unknown'}`)), timeoutMs);
      const settle = (c: StatusChange) => {
        if (last && last.status === c.status && last.readyReplicas === c.readyReplicas && last.replicas === c.replicas && last.reason === c.reason) return;
        last = c;
        onChange(c);
        if (done(c)) {
          clearTimeout(timer);
          resolve(c);
        }
      };
      client.subscribe<{ inferenceServiceStatusChanged: StatusChange }>(
        { query: SUBSCRIPTION, variables: { id } },
        {
          next: (msg) => {
            const e = msg.data?.inferenceServiceStatusChanged;
            if (e) settle({ ...e, status: e.status.toLowerCase() });
            else if (msg.errors?.length) reject(new ApiError(0, 0, msg.errors.map((x) => x.message).join('; ')));
          },
          error: (err) => {
            clearTimeout(timer);
            reject(subscriptionError(err));
          },
          complete: () => undefined,
        },
      );
      connected
        .then(() => api.request<ServiceDetail>('GET', `/inference/services/${encodeURIComponent(id)}`))
        .then(({ data: s }) =>
          settle({ status: s.status, reason: s.status_reason, message: s.status_message, readyReplicas: s.ready_replicas, replicas: s.replicas, at: s.updated_at }),
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await client.dispose();
  }
}

function subscriptionError(err: unknown): Error {
  if (Array.isArray(err)) return new ApiError(0, 0, err.map((e: { message?: string }) => e.message ?? String(e)).join('; '));
  const close = err as { code?: number; reason?: string };
  if (typeof close?.code === 'number') return new ApiError(close.code === 4401 ? 401 : close.code === 4403 ? 403 : 0, close.code, `subscription closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`);
  return err instanceof Error ? err : new Error(String(err));
}
