import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STANDALONE_MAIN = path.join(ROOT, 'services/standalone/dist/main.js');

export interface StandaloneProcess {
  child: ChildProcess;
  url: string;
  /** The admin token printed at start (only when RGPU_JWT_SECRET is unset). */
  adminToken?: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the built `npm start` entry point as a real child process and waits until it listens. */
export async function spawnStandalone(env: Record<string, string>, timeoutMs = 20_000, opts: { cwd?: string } = {}): Promise<StandaloneProcess> {
  const child = spawn(process.execPath, [STANDALONE_MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', RGPU_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a platform that never said it listens must not outlive the test
      reject(new Error(`standalone did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      const tokenPrinted = Boolean(env.RGPU_JWT_SECRET) || /Admin token[^\n]*\n\n\s+\S+\n/.test(out);
      if (m && tokenPrinted) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`standalone exited with ${code} before listening:\n${out}`));
    });
  });
  const token = /Admin token[^\n]*\n\n\s+(\S+)/.exec(out)?.[1];
  return {
    child,
    url,
    adminToken: token,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
