import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';

/** How a replica process ended. */
export interface ReplicaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It printed the `listening` line (so the model loaded). */
  listened: boolean;
  /** It answered `/v2/health/ready` at least once. */
  ready: boolean;
  /** For humans: `exited with code 1 before listening: <last stderr line>`. */
  message: string;
  /** Why, as a status reason, when the replica said so on a `failed` line (the model server's stdout protocol). */
  cause: ReplicaFailureCause | null;
}

export interface ReplicaFailureCause {
  code: string;
  params: Record<string, string | number>;
}

export interface ReplicaProcessOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** From spawn to the `listening` line; past it the process is killed and counts as failed. */
  startupTimeoutMs: number;
  /** From the `listening` line to the first 200 of `/v2/health/ready`; past it, the same. */
  readinessTimeoutMs: number;
  readinessPollMs: number;
  logger: Logger;
  onListening(info: { port: number; device: string | null }): void;
  onReady(url: string): void;
  /** Every line the process writes, before any rate limit (the caller bounds what it keeps). */
  onOutput?(stream: 'stdout' | 'stderr', line: string): void;
  /** Called once, after the process exited and its output was read. */
  onExit(exit: ReplicaExit): void;
}

const MAX_LINE = 2_000;
const STDERR_LINES_PER_SECOND = 50;
/** After `exit`, how long to wait for the pipes to close (a grandchild may hold them) before reporting. */
const CLOSE_WAIT_MS = 500;

/**
 * One model-server child process and the protocol it speaks: it prints
 * `{"event":"listening","port":<n>,"device":"cpu"|"cuda"}` on stdout once it listens with its model loaded,
 * answers `GET /v2/health/ready`, and exits when stdin closes. Stdin is kept open for the life of the
 * process: if this parent dies, the pipe closes and the replica goes with it instead of lingering.
 */
export class ReplicaProcess {
  readonly pid: number | null;
  private readonly child: ChildProcess;
  private listened = false;
  private ready = false;
  private exited = false;
  private terminating = false;
  private failure: string | null = null;
  private lastStderrLine: string | null = null;
  private cause: ReplicaFailureCause | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: ReplicaProcessOptions) {
    // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches the platform only,
    // which then stops the replicas after the gateway has drained, instead of every replica dying at once
    // under requests still in flight. Parent death is still noticed through stdin (see above).
    this.child = spawn(options.command, options.args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.pid = this.child.pid ?? null;
    // Writing is never done, but a closed pipe still reports EPIPE here; it must not crash the platform.
    this.child.stdin?.on('error', () => undefined);
    readLines(this.child.stdout, (line) => {
      options.onOutput?.('stdout', line);
      this.onStdout(line);
    });
    const logStderr = rateLimited(STDERR_LINES_PER_SECOND, (line, dropped) => {
      if (dropped) options.logger.warn({ dropped }, 'replica stderr lines dropped (too many per second)');
      options.logger.info({ stream: 'stderr', line }, 'replica output');
    });
    readLines(this.child.stderr, (line) => {
      // Kept whatever the rate limit does: it is what a crash message quotes.
      if (line.trim()) this.lastStderrLine = line.trim();
      options.onOutput?.('stderr', line);
      logStderr(line);
    });
    this.child.once('error', (err) => {
      // Without a pid the process never started (ENOENT, EACCES); no exit event will follow.
      if (this.pid === null) this.finish(null, null, `could not start ${options.command}: ${err.message}`);
      else options.logger.warn({ err }, 'replica process error');
    });
    this.child.once('exit', (code, signal) => {
      this.timer(CLOSE_WAIT_MS, () => this.finish(code, signal));
    });
    this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.finish(code, signal));
    this.timer(options.startupTimeoutMs, () => {
      if (this.listened || this.terminating) return;
      this.failure = `not listening within ${options.startupTimeoutMs} ms of its start`;
      this.child.kill('SIGKILL');
    });
  }

  /** SIGTERM (the model server drains in-flight requests), SIGKILL after the grace period. */
  terminate(gracePeriodMs: number): void {
    if (this.exited || this.terminating) return;
    this.terminating = true;
    this.child.kill('SIGTERM');
    this.timer(gracePeriodMs, () => this.child.kill('SIGKILL'));
  }

  private onStdout(line: string): void {
    const listening = this.listened ? null : parseListening(line);
    if (!listening) {
      this.cause = parseFailureCause(line) ?? this.cause;
      this.options.logger.debug({ stream: 'stdout', line }, 'replica output');
      return;
    }
    this.listened = true;
    this.options.onListening(listening);
    // Counted from here, not from the spawn: how long Node and the model load take is the startup budget's
    // business, so a loaded machine does not turn a slow start into a readiness failure.
    this.timer(this.options.readinessTimeoutMs, () => {
      if (this.ready || this.terminating) return;
      this.failure = `not ready within ${this.options.readinessTimeoutMs} ms of listening`;
      this.child.kill('SIGKILL');
    });
    void this.pollReadiness(`http://127.0.0.1:${listening.port}`);
  }

  private async pollReadiness(url: string): Promise<void> {
    while (!this.exited && !this.terminating && this.failure === null) {
      if (await probeReady(`${url}/v2/health/ready`, 1_000)) {
        if (this.exited || this.terminating || this.failure !== null) return;
        this.ready = true;
        this.options.onReady(url);
        return;
      }
      await new Promise((resolve) => this.timer(this.options.readinessPollMs, () => resolve(undefined)));
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, startFailure?: string): void {
    if (this.exited) return;
    this.exited = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const how = startFailure ?? (signal ? `killed by ${signal}` : `exited with code ${code}`);
    let message = this.failure ?? (this.listened ? how : `${how} before listening`);
    if (this.lastStderrLine) message += `: ${this.lastStderrLine}`;
    this.options.onExit({ code, signal, listened: this.listened, ready: this.ready, message, cause: this.cause });
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

function parseListening(line: string): { port: number; device: string | null } | null {
  if (!line.includes('"listening"')) return null;
  try {
    const msg = JSON.parse(line) as { event?: unknown; port?: unknown; device?: unknown };
    if (msg.event !== 'listening' || !Number.isInteger(msg.port)) return null;
    return { port: msg.port as number, device: typeof msg.device === 'string' ? msg.device : null };
  } catch {
    return null;
  }
}

/** The status reason of a `failed` line (`{"event":"failed",…,"code":…,"params":{…}}`), if it names one. */
function parseFailureCause(line: string): ReplicaFailureCause | null {
  if (!line.includes('"failed"')) return null;
  try {
    const msg = JSON.parse(line) as { event?: unknown; code?: unknown; params?: unknown };
    if (msg.event !== 'failed' || typeof msg.code !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(msg.code)) return null;
    const params: Record<string, string | number> = {};
    if (msg.params && typeof msg.params === 'object' && !Array.isArray(msg.params)) {
      for (const [k, v] of Object.entries(msg.params)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
    }
    return { code: msg.code, params };
  } catch {
    return null;
  }
}

function probeReady(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Splits a stream into lines; a line longer than MAX_LINE is cut, so a process cannot grow our memory. */
function readLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, Math.min(newline, MAX_LINE)));
      buffer = buffer.slice(newline + 1);
    }
    if (buffer.length > MAX_LINE) {
      onLine(buffer.slice(0, MAX_LINE));
      buffer = '';
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer);
  });
}

/** Passes at most `perSecond` lines a second on, and says how many it dropped before the next one it passes. */
function rateLimited(perSecond: number, onLine: (line: string, dropped: number) => void): (line: string) => void {
  let windowStart = 0;
  let passed = 0;
  let dropped = 0;
  return (line) => {
    const now = Date.now();
    if (now - windowStart >= 1_000) {
      windowStart = now;
      passed = 0;
    }
    if (passed >= perSecond) {
      dropped += 1;
      return;
    }
    passed += 1;
    onLine(line, dropped);
    dropped = 0;
  };
}
