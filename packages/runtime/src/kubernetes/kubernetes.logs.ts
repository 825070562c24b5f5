import { followByPolling } from '@remotegpu/core';
import type { ReplicaLogFollow, ReplicaLogLine, ReplicaLogQuery } from '../runtime.port.js';
import type { KubeApi } from './kube.api.js';
import { CONTAINER_NAME } from './kubernetes.names.js';

/** How often a follow asks the API server for new lines (a poll, not a held stream: no connection per follower to manage). */
export const FOLLOW_POLL_MS = 2_000;

/** `2024-01-01T00:00:00.123456789Z line` → its parts; a line without a timestamp keeps the read time. */
function parseLine(replica: string, raw: string, readAt: string): ReplicaLogLine {
  const space = raw.indexOf(' ');
  const stamp = space > 0 ? raw.slice(0, space) : '';
  const at = /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(stamp) ? new Date(stamp).toISOString() : null;
  // The kubelet merges stdout and stderr into one log; which stream a line came from is not in the API.
  return at ? { replica, at, stream: 'stdout', line: raw.slice(space + 1) } : { replica, at: readAt, stream: 'stdout', line: raw };
}

/** The service's pods' container logs, merged oldest first, filtered and cut like the local runtime's. */
export async function readPodLogs(api: KubeApi, pods: string[], query: ReplicaLogQuery, now = new Date()): Promise<ReplicaLogLine[]> {
  const names = query.replica !== undefined ? pods.filter((p) => p === query.replica) : pods;
  const sinceSeconds = query.since ? Math.max(1, Math.ceil((now.getTime() - query.since.getTime()) / 1000)) : undefined;
  const readAt = now.toISOString();
  const texts = await Promise.all(
    names.map((name) =>
      api.readPodLog(name, CONTAINER_NAME, { tailLines: query.tail, sinceSeconds }).then(
        (text) => ({ name, text }),
        // A pod that is gone or has not started has no log yet: the others still answer.
        () => ({ name, text: '' }),
      ),
    ),
  );
  const since = query.since?.toISOString();
  let lines = texts.flatMap(({ name, text }) => text.split('\n').filter((l) => l.length > 0).map((l) => parseLine(name, l, readAt)));
  if (since !== undefined) lines = lines.filter((l) => l.at >= since);
  lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return query.tail !== undefined ? lines.slice(Math.max(0, lines.length - query.tail)) : lines;
}

/** Follows by polling (core's `followByPolling`): pod logs can be read, not streamed, through the API we use. */
export function followPodLogs(
  api: KubeApi,
  pods: () => string[],
  query: ReplicaLogQuery,
  onLine: (line: ReplicaLogLine) => void,
): ReplicaLogFollow {
  return followByPolling((since) => readPodLogs(api, pods(), { replica: query.replica, since }), onLine, FOLLOW_POLL_MS);
}
