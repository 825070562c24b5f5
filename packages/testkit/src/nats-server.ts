import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shared broker of the project's machines (DESIGN §8); tests that restart or kill a broker use their own. */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface NatsServerProcess {
  url: string;
  port: number;
  /** JetStream's store directory (`-sd`): kept across `restart()`, removed by `cleanup()`. */
  storeDir: string;
  /** SIGKILL (a crash) or SIGTERM (a clean shutdown); resolves once the process is gone. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again on the same port and store directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it if running and removes its store directory. */
  cleanup(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private `nats-server -js` from PATH on a free loopback port with its own store directory, for tests that
 * kill or restart the broker (never the shared one at 4222). Fails with a readable message when nats-server
 * is not installed (`apt-get install nats-server`).
 */
export async function startNatsServer(options: { port?: number } = {}): Promise<NatsServerProcess> {
  const storeDir = await mkdtemp(join(tmpdir(), 'rgpu-nats-'));
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    const proc = spawn('nats-server', ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`cannot run nats-server from PATH (apt-get install nats-server): ${err.message}`)));
      proc.once('exit', (code) => reject(new Error(`nats-server exited with ${code} before it listened:\n${output}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    // JetStream is usable once the server logs readiness; the port alone can open a moment earlier.
    while (!(output.includes('Server is ready') && (await accepts(port)))) {
      if (Date.now() > deadline) throw new Error(`nats-server on port ${port} not ready after 10 s:\n${output}`);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), failed]);
    }
  };

  const kill = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await gone;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    start,
    cleanup: async () => {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
