import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The BUILT entry point: these tests exercise the process exactly as the local runtime starts it. */
export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ModelServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  device: string;
  /** Every stdout line, the listening line included. */
  stdoutLines: string[];
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface SpawnOptions {
  /** Added to a clean environment (no inherited RGPU_* or CUDA_VISIBLE_DEVICES). */
  env: Record<string, string>;
  stdin?: 'pipe' | 'ignore';
  startTimeoutMs?: number;
}

function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first with \`npx tsc -b tsconfig.build.json\``);
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('RGPU_') && k !== 'CUDA_VISIBLE_DEVICES' && k !== 'PORT' && k !== 'HOST'),
  );
  return { ...base, ...extra };
}

function launch(opts: SpawnOptions) {
  assertBuilt();
  const child = spawn(process.execPath, [MAIN], { env: cleanEnv(opts.env), stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdoutLines, lines, exited, stderr: () => stderr };
}

/** Starts a model server and resolves once it printed its `listening` line (rejects if it exits first). */
export async function startModelServer(opts: SpawnOptions): Promise<ModelServerProcess> {
  const { child, stdoutLines, lines, exited, stderr } = launch(opts);
  const listening = await new Promise<{ port: number; device: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${opts.startTimeoutMs ?? 20_000} ms; stderr:\n${stderr()}`));
    }, opts.startTimeoutMs ?? 20_000);
    lines.on('line', (line) => {
      stdoutLines.push(line);
      const event = JSON.parse(line) as { event: string; port: number; device: string };
      if (event.event === 'listening') {
        clearTimeout(timer);
        resolve(event);
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`model server exited (${exit.code ?? exit.signal}) before listening; stderr:\n${stderr()}`));
    });
  });
  return {
    child,
    port: listening.port,
    url: `http://127.0.0.1:${listening.port}`,
    device: listening.device,
    stdoutLines,
    stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a model server that is expected to fail at start; resolves with its exit and output. */
export async function runToExit(opts: SpawnOptions & { timeoutMs?: number }): Promise<Exit & { stdout: string; stderr: string }> {
  const { child, stdoutLines, lines, exited, stderr } = launch(opts);
  lines.on('line', (line) => stdoutLines.push(line));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, stdout: stdoutLines.join('\n'), stderr: stderr() };
}

/** Writes model bytes into `dir` and returns the environment that serves them. */
export async function modelEnv(
  dir: string,
  file: string,
  bytes: Buffer,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const modelPath = path.join(dir, file);
  await writeFile(modelPath, bytes);
  return {
    RGPU_MODEL_PATH: modelPath,
    RGPU_MODEL_NAME: 'svc-test0000001',
    RGPU_MODEL_VERSION: 'v1',
    RGPU_LABELS: JSON.stringify(['red', 'green', 'blue']),
    RGPU_INTRA_OP_THREADS: '1',
    ...extra,
  };
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

export async function getJson<T = any>(url: string): Promise<JsonResponse<T>> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

export function imageBody(image: Buffer, topK?: number): unknown {
  return { inputs: { image: image.toString('base64') }, ...(topK === undefined ? {} : { parameters: { top_k: topK } }) };
}

/**
 * A /predict request whose body never completes: the replica counts it as company on the way, so queued requests
 * wait for it (up to the delay) instead of running at once, and a full batch forms. Returns how to cut it.
 */
export async function holdIncomplete(url: string): Promise<() => void> {
  const req = http.request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100000' } });
  req.on('error', () => {});
  req.write('{"inputs":');
  await new Promise((r) => setTimeout(r, 50)); // the replica has read its headers
  return () => req.destroy();
}
