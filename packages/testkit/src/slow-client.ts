import { connect, type Socket } from 'node:net';

/** How a trickling client's connection ended. */
export interface SlowClientOutcome {
  /** The status the server answered with (408 expected), or null when it closed without answering. */
  status: number | null;
  /** The server closed the connection (false: the client gave up at `giveUpAfterMs`). */
  closedByServer: boolean;
  elapsedMs: number;
  /** Bytes the client managed to send, headers included. */
  sent: number;
}

export interface SlowClientOptions {
  /** Milliseconds between two writes. */
  intervalMs: number;
  /** The client stops by itself after this long (the test's upper bound, with slack). */
  giveUpAfterMs: number;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/**
 * A slowloris client on a raw socket: sends a request line, then one header line per `intervalMs`, never
 * finishing the headers. Resolves when the server answers or closes, or after `giveUpAfterMs`.
 */
export function trickleHeaders(baseUrl: string, options: SlowClientOptions): Promise<SlowClientOutcome> {
  const { method = 'GET', path = '/' } = options;
  let line = 0;
  return trickle(baseUrl, options, `${method} ${path} HTTP/1.1\r\nHost: ${new URL(baseUrl).host}\r\n`, () => `x-slow-${line++}: a\r\n`);
}

/**
 * Sends complete headers announcing a large body, then one byte of it per `intervalMs` (a body that never ends
 * in any reasonable time). Resolves as {@link trickleHeaders} does.
 */
export function trickleBody(baseUrl: string, options: SlowClientOptions): Promise<SlowClientOutcome> {
  const { method = 'POST', path = '/' } = options;
  const headers = { host: new URL(baseUrl).host, 'content-type': 'application/json', 'content-length': '1000000', ...options.headers };
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return trickle(baseUrl, options, head, () => ' ');
}

function trickle(baseUrl: string, options: SlowClientOptions, first: string, next: () => string): Promise<SlowClientOutcome> {
  const { hostname, port } = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    let answer = '';
    let sent = 0;
    let settled = false;
    const write = (text: string): void => {
      if (socket.writable) {
        socket.write(text);
        sent += Buffer.byteLength(text);
      }
    };
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(ticker);
      clearTimeout(giveUp);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
      resolve({ status: status ? Number(status) : null, closedByServer, elapsedMs: performance.now() - started, sent });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    // A reset after the answer (the server closed with our bytes unread) still counts as the server closing.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    socket.once('connect', () => write(first));
    const ticker = setInterval(() => write(next()), options.intervalMs);
    const giveUp = setTimeout(() => finish(false), options.giveUpAfterMs);
  });
}
