import { ApiError, toApiError } from './api.client.js';
import type { Context } from './context.js';

/** One log line as the platform's logs endpoint describes it; fields beyond these are ignored. */
interface LogLine {
  replica?: string;
  at?: string;
  time?: string;
  stream?: string;
  line?: string;
  message?: string;
}

function lineText(l: LogLine | string): string {
  if (typeof l === 'string') return l;
  const at = l.at ?? l.time;
  return `${l.replica ? `[${l.replica}] ` : ''}${at ? `${at} ` : ''}${l.line ?? l.message ?? ''}`;
}

/** The body as JSON, or undefined for a text that is not JSON (logs may come as text/plain). */
function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `GET …/logs`: the envelope's `data.items` (or a text/plain body) printed as lines; --json prints `data`. */
export async function printLogs(ctx: Context, path: string): Promise<void> {
  const res = await ctx.api.fetch(path);
  const text = await res.text();
  const parsed = jsonOrUndefined(text);
  if (!res.ok) throw toApiError(res.status, parsed, text);
  if (parsed === undefined) return ctx.out(text.endsWith('\n') || !text ? text : `${text}\n`);
  const data = (parsed as { data?: unknown }).data;
  if (ctx.json) return ctx.out(JSON.stringify(data ?? null, null, 2) + '\n');
  const items = (data as { items?: unknown })?.items ?? (data as { lines?: unknown })?.lines ?? data;
  if (!Array.isArray(items)) return ctx.out(JSON.stringify(data, null, 2) + '\n');
  ctx.out(items.map((l: LogLine | string) => lineText(l) + '\n').join(''));
}

/**
 * `GET …/logs?follow=true` as server-sent events: each `data:` payload (JSON line or text) is printed as it
 * arrives (one JSON object per line with --json) until the server ends the stream or the user interrupts.
 * A small parser of its own: the format is four rules (fields per line, blank line ends an event).
 */
export async function followLogs(ctx: Context, path: string): Promise<void> {
  const res = await ctx.api.fetch(path, { headers: { accept: 'text/event-stream' } });
  if (!res.ok) {
    const text = await res.text();
    throw toApiError(res.status, jsonOrUndefined(text), text);
  }
  if (!res.body) throw new ApiError(res.status, 0, 'the logs stream has no body');
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = 'message';
  const dispatch = () => {
    if (data.length && event !== 'ping' && event !== 'keepalive') {
      const payload = data.join('\n');
      let value: LogLine | string = payload;
      try {
        value = JSON.parse(payload) as LogLine;
      } catch {
        // plain text line
      }
      ctx.out(ctx.json ? JSON.stringify(value) + '\n' : lineText(value) + '\n');
    }
    data = [];
    event = 'message';
  };
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const raw = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (raw === '') dispatch();
      else if (raw.startsWith(':')) continue;
      else {
        const colon = raw.indexOf(':');
        const field = colon < 0 ? raw : raw.slice(0, colon);
        const value = colon < 0 ? '' : raw.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
      }
    }
  }
  dispatch();
}
