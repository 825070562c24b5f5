import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './kube-resources.js';
import type { KubeStore, WatchEventType } from './kube-store.js';
import { gone, KubeApiError } from './kube-status.js';
import type { KubeObject } from './kube.types.js';

/**
 * A watch response: newline-delimited JSON events on a chunked 200, headers flushed at once (client-node's
 * informer waits for them before it reports itself started), BOOKMARKs when asked for, an ERROR event carrying a
 * 410 `Status` when the requested version is older than the retained history, and the end of the stream after
 * timeoutSeconds (clients then re-watch from their last version).
 */

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  resourceVersion?: string;
  matches(object: KubeObject): boolean;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  /** How an object is written in an event (a Table row for kubectl get -w); as is by default. */
  render?: (object: KubeObject) => unknown;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** Without timeoutSeconds the real server picks 30–60 minutes; the fake ends such watches after this. */
  defaultTimeoutSeconds: number;
}

export function serveWatch(store: KubeStore, req: IncomingMessage, res: ServerResponse, watch: WatchRequest, settings: WatchSettings, onClose: (close: () => void) => () => void): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const apiVersion = apiVersionOf(watch.type);
  let finished = false;
  let unsubscribe: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];

  const write = (type: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown) => {
    if (!finished) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: Record<string, unknown> = { resourceVersion: String(store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    write('BOOKMARK', { kind: watch.type.kind, apiVersion, metadata });
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    unsubscribe?.();
    for (const t of timers) clearTimeout(t);
    unregister();
    res.end();
  };
  const unregister = onClose(finish);
  req.on('close', finish);
  res.on('close', finish);

  const fromRv = watch.sendInitialEvents ? '0' : watch.resourceVersion;
  try {
    unsubscribe = store.watch(watch.type, fromRv, { namespace: watch.namespace, matches: watch.matches }, {
      event: (type, object) => write(type, watch.render ? watch.render(object) : object),
      expired: (oldest) => {
        write('ERROR', gone(watch.resourceVersion ?? '0', oldest).status);
        finish();
      },
    });
  } catch (error) {
    if (error instanceof KubeApiError) {
      write('ERROR', error.status);
      finish();
      return;
    }
    throw error;
  }
  if (watch.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
  if (watch.allowWatchBookmarks) {
    const interval = setInterval(() => bookmark(), settings.bookmarkIntervalMs);
    interval.unref();
    timers.push(interval);
  }
  const timeout = setTimeout(finish, 1000 * (watch.timeoutSeconds && watch.timeoutSeconds > 0 ? watch.timeoutSeconds : settings.defaultTimeoutSeconds));
  timeout.unref();
  timers.push(timeout);
}
