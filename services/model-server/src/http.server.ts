import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertNever } from '@remotegpu/core';
import { applyHttpTimeouts, type HttpTimeouts } from '@remotegpu/http';
import type { RequestHandler } from './http.routes.js';

export type ServerState = 'idle' | 'serving' | 'draining' | 'stopped';

export type DrainOutcome = 'drained' | 'timed_out';

/** A request answered with an error status, for the replica's log (what `GET …/logs` shows an operator). */
export interface FailedRequest {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestId: string | null;
}

/**
 * The replica's HTTP server and its lifecycle. Draining follows Kubernetes practice: readiness drops at once,
 * the listener closes (new connections are refused, so a client or the router retries elsewhere), requests
 * already on open connections are answered with `Connection: close`, and the process may exit once they are done.
 */
export class ModelHttpServer {
  private state: ServerState = 'idle';
  private readonly server: Server;
  /** Responses not yet finished; a Set so that draining can turn off their keep-alive before they are written. */
  private readonly inFlight = new Set<ServerResponse>();
  private settleDrain: (() => void) | null = null;
  private drainOutcome: Promise<DrainOutcome> | null = null;

  constructor(
    handler: (server: ModelHttpServer) => RequestHandler,
    onDefect: (err: unknown) => void,
    /** Slow clients are cut off as on every server of the platform (defaults: `HTTP_TIMEOUT_DEFAULTS`). */
    timeouts: Partial<HttpTimeouts> = {},
    /** Called for each answer of status 400 or above (successes are not logged: the router's metrics count them). */
    onFailedRequest?: (request: FailedRequest) => void,
  ) {
    const handle = handler(this);
    this.server = createServer({ keepAlive: true, noDelay: true }, (req: IncomingMessage, res: ServerResponse) => {
      this.inFlight.add(res);
      if (this.state === 'draining') res.shouldKeepAlive = false;
      const started = performance.now();
      res.once('close', () => {
        this.finished(res);
        // The path only: a query string is the client's and is not logged.
        const path = (req.url ?? '').split('?')[0]!.slice(0, 200);
        // Probes answer 503 by design while loading or draining: not a failure worth a line each poll.
        if (onFailedRequest && res.statusCode >= 400 && !path.startsWith('/v2/health/')) {
          const id = req.headers['x-request-id'];
          onFailedRequest({
            method: req.method ?? '',
            path,
            status: res.statusCode,
            ms: Math.round(performance.now() - started),
            requestId: typeof id === 'string' ? id.slice(0, 100) : null,
          });
        }
      });
      try {
        handle(req, res);
      } catch (err) {
        // A defect in a synchronous route must cost one request, not the replica.
        onDefect(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"error":"internal server error"}');
      }
    });
    applyHttpTimeouts(this.server, timeouts);
  }

  get ready(): boolean {
    return this.state === 'serving';
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.state = 'serving';
    return (this.server.address() as AddressInfo).port;
  }

  /** Not ready at once; resolves when every request in flight is answered, or after `timeoutMs`. Idempotent. */
  drain(timeoutMs: number): Promise<DrainOutcome> {
    this.drainOutcome ??= this.startDrain(timeoutMs);
    return this.drainOutcome;
  }

  private async startDrain(timeoutMs: number): Promise<DrainOutcome> {
    switch (this.state) {
      case 'idle':
      case 'stopped':
        this.state = 'stopped';
        return 'drained';
      case 'draining':
      case 'serving':
        break;
      default:
        return assertNever(this.state);
    }
    this.state = 'draining';
    this.server.close();
    this.server.closeIdleConnections();
    for (const res of this.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const done = new Promise<DrainOutcome>((resolve) => {
      if (this.inFlight.size === 0) return resolve('drained');
      this.settleDrain = () => resolve('drained');
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<DrainOutcome>((resolve) => {
      timer = setTimeout(() => resolve('timed_out'), timeoutMs);
    });
    const outcome = await Promise.race([done, timeout]);
    clearTimeout(timer);
    this.state = 'stopped';
    this.server.closeAllConnections();
    return outcome;
  }

  private finished(res: ServerResponse): void {
    this.inFlight.delete(res);
    if (this.state !== 'draining') return;
    // A response that began before the drain kept its keep-alive; its connection is idle now and may go.
    this.server.closeIdleConnections();
    if (this.inFlight.size === 0) this.settleDrain?.();
  }
}
