import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { colorClassifierOnnx, COLOR_LABELS, NATS_URL, signToken, tempDir, type TempDir } from '@remotegpu/testkit';
import { waitFor } from './client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAINS = {
  gateway: path.join(ROOT, 'services/gateway/dist/main.js'),
  router: path.join(ROOT, 'services/router/dist/main.js'),
  provisioner: path.join(ROOT, 'services/provisioner/dist/main.js'),
} as const;
export type Role = keyof typeof MAINS;

/** The line each process logs once its HTTP server listens (`"port":N` on it). */
const LISTENING: Record<Role, RegExp> = {
  gateway: /"port":(\d+)[^\n]*gateway listening/,
  router: /"port":(\d+)[^\n]*router listening/,
  provisioner: /"port":(\d+)[^\n]*provisioner listening/,
};

const SECRET = 'distributed-test-secret-0123456789-abcdefgh';

/** One service process of the stack: `node services/<role>/dist/main.js`, its output kept for assertions. */
export interface ServiceProcess {
  role: Role;
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  /** Everything it wrote so far. */
  output(): string;
  /** Its JSON log lines (pino), parsed. */
  logs(): Record<string, unknown>[];
  /** SIGTERM by default; resolves with the exit code (null after a signal kill). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export interface DistributedStackOptions {
  gateways?: number;
  routers?: number;
  provisioners?: number;
  /** Added to every process's environment. */
  env?: Record<string, string>;
}

/**
 * The platform as separate processes over the shared NATS server (test/distributed): provisioner(s), router(s)
 * and gateway(s), each its own `node services/<x>/dist/main.js` with a real SQLite file in one temp data dir.
 * Every stack gets its own JetStream stream, subject prefix and lease bucket, so stacks of parallel test files
 * never see each other's events on the shared `nats://127.0.0.1:4222`. Gateways send predictions to the first
 * router, whose address is also `endpoint_url`'s.
 */
export class DistributedStack {
  readonly processes: ServiceProcess[] = [];
  readonly run = randomBytes(4).toString('hex');
  readonly streamName = `RGPU_T_${this.run}`;
  readonly subjectPrefix = `rgput.${this.run}`;
  readonly leaseBucket = `rgpu_t_lease_${this.run}`;
  readonly secret = SECRET;
  /** The shared server, unless a test runs its own (`env.NATS_URL`, e.g. one it restarts). */
  readonly natsUrl: string;
  private dir!: TempDir;
  private counter = 0;

  private constructor(private readonly options: DistributedStackOptions) {
    this.natsUrl = options.env?.NATS_URL ?? NATS_URL;
  }

  static async start(options: DistributedStackOptions = {}): Promise<DistributedStack> {
    const stack = new DistributedStack(options);
    try {
      await stack.boot();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  get dataDir(): string {
    return this.dir.path;
  }
  get gateways(): ServiceProcess[] {
    return this.processes.filter((p) => p.role === 'gateway');
  }
  get routers(): ServiceProcess[] {
    return this.processes.filter((p) => p.role === 'router');
  }
  get provisioners(): ServiceProcess[] {
    return this.processes.filter((p) => p.role === 'provisioner');
  }
  /** The first gateway: REST, GraphQL, graphql-ws. */
  get url(): string {
    return this.gateways[0].url;
  }

  /** What every process of this stack shares. */
  baseEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NATS_URL: this.natsUrl,
      RGPU_NATS_STREAM: this.streamName,
      RGPU_NATS_SUBJECT_PREFIX: this.subjectPrefix,
      RGPU_DATA_DIR: this.dir.path,
      RGPU_JWT_SECRET: SECRET,
      RGPU_LOG_LEVEL: 'info',
      // No GPUs, so suites behave the same on GPU machines and here.
      RGPU_LOCAL_GPUS: '0',
      PROVISIONER_LEASE_BUCKET: this.leaseBucket,
      PROVISIONER_RESYNC_MS: '2000',
      ...this.options.env,
    };
  }

  private async boot(): Promise<void> {
    for (const role of ['provisioner', 'router', 'gateway'] as const) {
      if (!existsSync(MAINS[role])) throw new Error(`${MAINS[role]} is missing: run \`npm run build\` first`);
    }
    this.dir = await tempDir('rgpu-distributed-');
    const provisioners = this.options.provisioners ?? 1;
    for (let i = 0; i < provisioners; i++) await this.spawn('provisioner');
    for (let i = 0; i < (this.options.routers ?? 1); i++) await this.spawn('router');
    for (let i = 0; i < (this.options.gateways ?? 1); i++) await this.spawn('gateway');
  }

  /** Starts one more process of a role and waits until it listens and its /readyz says ready. */
  async spawn(role: Role, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const name = `${role}-${++this.counter}`;
    const env: Record<string, string> = { ...this.baseEnv(), ...extraEnv };
    if (role === 'gateway') {
      const router = this.routers[0];
      if (!router) throw new Error('start a router before a gateway');
      env.PORT = '0';
      env.RGPU_ROUTER_URL = router.url;
      env.RGPU_PUBLIC_URL = router.url;
    } else if (role === 'router') {
      env.ROUTER_PORT = '0';
    } else {
      env.PROVISIONER_PORT = '0';
    }
    const child = spawn(process.execPath, [MAINS[role]], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc: ServiceProcess = {
      role,
      name,
      child,
      pid: child.pid!,
      url: '',
      output: () => out,
      logs: () =>
        out
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as Record<string, unknown>];
            } catch {
              return [];
            }
          }),
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
      exited,
    };
    this.processes.push(proc);
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`${name} did not listen within 30 s:\n${out}`));
      }, 30_000);
      const poll = setInterval(() => {
        const found = LISTENING[role].exec(out)?.[1];
        if (found === undefined) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(found);
      }, 20);
      void exited.then((code) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
      });
    });
    proc.url = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${proc.url}/readyz`).then((r) => r.status), (s) => s === 200, `${name} ready`, 20_000, 50);
    return proc;
  }

  token(claims: { sub?: string; workspaces?: number[]; admin?: boolean } = {}): Promise<string> {
    return signToken(SECRET, { sub: claims.sub ?? 'tester', workspaces: claims.workspaces ?? [], admin: claims.admin });
  }

  /** Registers the colour classifier in a workspace through the gateway's REST upload. */
  async registerColorModel(workspaceId: number, token: string, version = 'v1'): Promise<number> {
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`${this.url}/api/v1/models`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `colours-${this.run}-${++this.counter}`, workspace_id: workspaceId, framework: 'pytorch', task: 'image-classification' }),
    });
    const model = (await created.json()) as { data: { model_id: number } };
    if (created.status !== 201) throw new Error(`register model: ${created.status} ${JSON.stringify(model)}`);
    await this.uploadVersion(model.data.model_id, version, token);
    return model.data.model_id;
  }

  async uploadVersion(modelId: number, version: string, token: string): Promise<void> {
    const form = new FormData();
    form.set('version', version);
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
    const res = await fetch(`${this.url}/api/v1/models/${modelId}/versions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    if (res.status !== 201) throw new Error(`upload version: ${res.status} ${await res.text()}`);
  }

  /** Log lines of every process that mention this correlation id, by process role. */
  linesWith(correlationId: string): Record<Role, Record<string, unknown>[]> {
    const found: Record<Role, Record<string, unknown>[]> = { gateway: [], router: [], provisioner: [] };
    for (const proc of this.processes) {
      for (const line of proc.logs()) if (JSON.stringify(line).includes(correlationId)) found[proc.role].push(line);
    }
    return found;
  }

  /**
   * SIGTERM to every process (gateways first, provisioners last, as an orchestrator would drain them), SIGKILL
   * after 20 s, then the stream and the lease bucket go from the shared NATS and the data dir from the disk.
   */
  async stop(): Promise<void> {
    const order: Role[] = ['gateway', 'router', 'provisioner'];
    for (const role of order) {
      await Promise.all(
        this.processes
          .filter((p) => p.role === role)
          .map(async (p) => {
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
            await p.stop();
            clearTimeout(timer);
          }),
      );
    }
    const nc = await connect({ servers: this.natsUrl, timeout: 2_000 }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(this.streamName).catch(() => undefined);
      await jsm.streams.delete(`KV_${this.leaseBucket}`).catch(() => undefined);
      await nc.close();
    }
    await this.dir?.cleanup();
  }
}
