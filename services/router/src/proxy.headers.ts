import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers a replica must not see from the client: the bearer token (replicas are not a trust
 * boundary, and a leaked replica log must not leak tokens), the client's Host, a length we set ourselves
 * from the buffered body, `Expect` (the body is already here), and a request id we set.
 */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'authorization', 'host', 'content-length', 'expect', 'x-request-id', 'x-forwarded-for']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is sane (so traces join up), else a fresh one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Extra names a `Connection` header declares hop-by-hop (rare: only parsed when present and unusual). */
function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const text = (Array.isArray(value) ? value.join(',') : value).toLowerCase();
  if (text === 'keep-alive' || text === 'close') return null;
  return new Set(text.split(',').map((token) => token.trim()).filter(Boolean));
}

export function upstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  bodyLength: number,
  forwarded: Readonly<Record<string, string>>,
): OutgoingHttpHeaders {
  const source = req.headers;
  const extra = connectionTokens(source.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in source) {
    if (NOT_FORWARDED.has(name) || (extra !== null && extra.has(name))) continue;
    out[name] = source[name];
  }
  for (const name in forwarded) out[name] = forwarded[name];
  const client = req.socket.remoteAddress;
  const previous = source['x-forwarded-for'];
  if (client !== undefined) out['x-forwarded-for'] = previous ? `${previous}, ${client}` : client;
  out['x-request-id'] = requestId;
  // GET/HEAD without a body stay without a length, as the client sent them.
  if (bodyLength > 0 || source['content-length'] !== undefined || source['transfer-encoding'] !== undefined) {
    out['content-length'] = bodyLength;
  }
  return out;
}

/**
 * The replica's response headers for the client, as the flat `[name, value, ...]` list `writeHead` accepts
 * (keeps the replica's spelling and duplicates, and skips building an object per response).
 */
export function downstreamResponseHeaders(upstream: IncomingMessage, requestId: string): string[] {
  const raw = upstream.rawHeaders;
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'connection') connection = raw[i + 1];
    if (HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
    out.push(raw[i], raw[i + 1]);
  }
  const extra = connectionTokens(connection);
  out.push('x-request-id', requestId);
  if (extra === null) return out;
  const filtered: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!extra.has(out[i].toLowerCase())) filtered.push(out[i], out[i + 1]);
  return filtered;
}

/** `X-Forwarded-Proto`/`-Host` from the public URL, computed once: replicas can build absolute links. */
export function forwardedHeadersOf(publicUrl: string | undefined): Record<string, string> {
  if (!publicUrl) return {};
  try {
    const url = new URL(publicUrl);
    return { 'x-forwarded-proto': url.protocol.replace(':', ''), 'x-forwarded-host': url.host };
  } catch {
    return {};
  }
}
