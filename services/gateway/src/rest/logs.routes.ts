import { Router, type Request, type Response } from 'express';
import { followServiceLogs, parseLogQuery, readServiceLogs, type AppDeps, type LogLine } from '../application/index.js';
import { sendData } from '../http/envelope.js';
import { MESSAGES } from '../http/i18n.js';
import { principalOf } from '../http/locals.js';
import { serviceIdParam } from './route-params.js';

/** A comment line on an idle stream, so proxies and clients do not take it for dead (and we learn when it is). */
export const SSE_HEARTBEAT_MS = 15_000;

/** The open follow streams, so that the gateway's stop ends them instead of waiting for their clients. */
export class LogStreams {
  private readonly open = new Set<() => void>();

  add(close: () => void): () => void {
    this.open.add(close);
    return () => this.open.delete(close);
  }

  closeAll(): void {
    for (const close of [...this.open]) close();
  }
}

function wire(line: LogLine): { replica: string; at: string; stream: string; line: string } {
  return { replica: line.replica, at: line.at, stream: line.stream, line: line.line };
}

/**
 * `GET /api/v1/inference/services/{id}/logs?replica=&tail=&since=&follow=`: the replicas' recent lines as the
 * envelope's `data.items`, oldest first; with `follow=true`, a `text/event-stream` instead (the tail first, then
 * each new line as an `event: log`, a heartbeat comment every 15 s), ended when the client goes.
 */
export function logsRoutes(deps: AppDeps, streams: LogStreams): Router {
  const router = Router();
  router.get('/inference/services/:id/logs', async (req: Request, res: Response) => {
    const id = serviceIdParam(req.params.id);
    const query = parseLogQuery(req.query, deps.now());
    const principal = principalOf(res);
    const filters = { replica: query.replica, since: query.since };
    if (!query.follow) {
      const items = await readServiceLogs(deps, principal, id, { ...filters, tail: query.tail });
      sendData(req, res, 200, MESSAGES.success, { items: items.map(wire) });
      return;
    }
    // Lines written between the tail and the follow start are held back and sent after the tail, without repeats.
    const early: LogLine[] = [];
    let live = false;
    const send = (line: LogLine) => res.write(`event: log\ndata: ${JSON.stringify(wire(line))}\n\n`);
    const follower = await followServiceLogs(deps, principal, id, { replica: query.replica }, (line) => (live ? send(line) : early.push(line)));
    let tail: LogLine[];
    try {
      tail = await readServiceLogs(deps, principal, id, { ...filters, tail: query.tail });
    } catch (err) {
      follower.close();
      throw err;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const last = tail.at(-1);
    const key = (l: LogLine) => `${l.replica}\u0000${l.line}`;
    const sentAtLast = new Set(last ? tail.filter((t) => t.at === last.at).map(key) : []);
    for (const line of tail) send(line);
    for (const line of early) {
      if (last && (line.at < last.at || (line.at === last.at && sentAtLast.has(key(line))))) continue;
      send(line);
    }
    live = true;
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      follower.close();
      forget();
      res.end();
    };
    const forget = streams.add(end);
    req.on('close', end);
    res.on('error', end);
  });
  return router;
}
