import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * How long a client may take to send a request, on every HTTP server of the platform (gateway, router, model
 * server). Without these, Node lets a client trickle a body for as long as it likes and its headers for a
 * minute or more, each connection holding memory and a socket.
 *
 * - Headers: Node's own `headersTimeout`, counted from the request's first byte (or from connecting): the
 *   client gets a bare `408 Request Timeout` and the connection is closed.
 * - Body: a minimum rate rather than a total time, like Apache's mod_reqtimeout (`body=20,MinRate=500`), so a
 *   large model upload over a slow but honest link is never cut: after `bodyTimeoutMs` the body must have
 *   averaged at least `bodyMinBytesPerSecond`, and it may never stall longer than `bodyTimeoutMs` at a time.
 *   Node's `requestTimeout` (a total for the whole request) is turned off for that reason. Time during which
 *   the server itself is not reading (its handler applies backpressure) is not held against the client.
 * - Between requests: `keepAliveTimeoutMs` closes an idle kept-alive connection.
 * - Waiting for the answer is not limited here: a long inference is legitimate silence (the router's own
 *   request timeout bounds it on the data plane), so the socket idle timeout (`server.timeout`) stays off.
 */
export interface HttpTimeouts {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  bodyMinBytesPerSecond: number;
  keepAliveTimeoutMs: number;
}

export const HTTP_TIMEOUT_DEFAULTS: Readonly<HttpTimeouts> = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 20_000,
  bodyMinBytesPerSecond: 1024,
  // Load balancers (AWS ALB, nginx upstream keep-alive) idle out at 60 s: the server must outlast them, so that
  // it is never the one closing a socket the balancer is about to reuse.
  keepAliveTimeoutMs: 65_000,
};

/** What Node itself writes when headers time out; the body timeout answers the same way. */
const REQUEST_TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

interface PendingBody {
  req: IncomingMessage;
  res: ServerResponse;
  /** When the current accounting window began: the request's headers, or the end of server-side backpressure. */
  since: number;
  /** `socket.bytesRead` at `since`. */
  baseBytes: number;
  lastBytes: number;
  lastProgressAt: number;
}

/**
 * Applies `timeouts` (defaults for what is left out) to `server`. Call before `listen`: Node reads its
 * checking interval when the server starts listening.
 */
export function applyHttpTimeouts(server: Server, timeouts: Partial<HttpTimeouts> = {}): HttpTimeouts {
  const limits = { ...HTTP_TIMEOUT_DEFAULTS, ...definedOnly(timeouts) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`HTTP timeout ${name} must be a positive number, got ${value}`);
  }
  // Checked this often, a limit is enforced within a quarter of itself (Node's default interval is 30 s).
  const checkEveryMs = Math.max(25, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4)));
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // A plain property that Node reads when the server starts listening (its typings only know the option).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkEveryMs;

  const pending = new Set<PendingBody>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete) return;
    const now = Date.now();
    const bytes = req.socket.bytesRead;
    pending.add({ req, res, since: now, baseBytes: bytes, lastBytes: bytes, lastProgressAt: now });
  });
  let timer: NodeJS.Timeout | undefined;
  const start = (): void => {
    if (timer !== undefined) return;
    timer = setInterval(() => checkBodies(pending, limits, Date.now()), checkEveryMs);
    timer.unref();
  };
  if (server.listening) start();
  server.on('listening', start);
  server.on('close', () => {
    clearInterval(timer);
    timer = undefined;
    pending.clear();
  });
  return limits;
}

function checkBodies(pending: Set<PendingBody>, limits: HttpTimeouts, now: number): void {
  for (const entry of pending) {
    const { req } = entry;
    const socket = req.socket;
    if (req.complete || socket.destroyed) {
      pending.delete(entry);
      continue;
    }
    const bytes = socket.bytesRead;
    if (bytes !== entry.lastBytes) {
      entry.lastBytes = bytes;
      entry.lastProgressAt = now;
    }
    // The handler is not reading (its buffer is full, so Node stopped reading the socket): our delay, not theirs.
    if (req.readableLength >= req.readableHighWaterMark) {
      entry.since = now;
      entry.baseBytes = bytes;
      entry.lastProgressAt = now;
      continue;
    }
    const received = bytes - entry.baseBytes;
    const allowedMs = limits.bodyTimeoutMs + (received / limits.bodyMinBytesPerSecond) * 1000;
    if (now - entry.lastProgressAt > limits.bodyTimeoutMs || now - entry.since > allowedMs) {
      pending.delete(entry);
      cut(entry);
    }
  }
}

/** 408 when nothing was answered yet (the way Node answers a slow header), then the connection goes. */
function cut({ res, req }: PendingBody): void {
  const socket = req.socket;
  if (!res.headersSent && socket.writable) socket.write(REQUEST_TIMEOUT_ANSWER);
  socket.destroy();
}

function definedOnly(timeouts: Partial<HttpTimeouts>): Partial<HttpTimeouts> {
  return Object.fromEntries(Object.entries(timeouts).filter(([, v]) => v !== undefined)) as Partial<HttpTimeouts>;
}
