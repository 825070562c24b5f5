import { pino, type Logger } from 'pino';
import { colorClassifierOnnx, COLOR_LABELS, signToken, tempDir } from '@remotegpu/testkit';
import { loadConfig, startPlatform, type PlatformOverrides, type RunningPlatform } from '@remotegpu/standalone';

export interface TestPlatform {
  url: string;
  secret: string;
  dataDir: string;
  platform: RunningPlatform;
  token(claims?: { sub?: string; workspaces?: number[]; admin?: boolean }): Promise<string>;
  /** Registers the colour classifier in a workspace through the real REST upload route. */
  registerColorModel(workspaceId: number, token: string, opts?: { name?: string; version?: string }): Promise<{ modelId: number; version: string }>;
  stop(): Promise<void>;
}

let modelCounter = 0;

/**
 * The real standalone platform in this process: SQLite in a temp data directory, real HTTP on an
 * ephemeral loopback port, the real gateway. `env` overrides configuration variables.
 */
/** Fast restarts and resyncs for tests; the production defaults are seconds. */
const TEST_OVERRIDES: PlatformOverrides = {
  runtime: { backoff: { initialMs: 50, maxMs: 500 }, gracePeriodMs: 2000, readinessTimeoutMs: 20_000 },
  resyncIntervalMs: 1000,
};

export async function startTestPlatform(
  opts: { env?: Record<string, string>; dataDir?: string; overrides?: PlatformOverrides; logger?: Logger } = {},
): Promise<TestPlatform> {
  const dir = opts.dataDir ? undefined : await tempDir('rgpu-test-');
  const dataDir = opts.dataDir ?? dir!.path;
  const secret = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  const config = loadConfig({
    PORT: '0',
    RGPU_DATA_DIR: dataDir,
    RGPU_JWT_SECRET: secret,
    RGPU_LOG_LEVEL: 'silent',
    // No GPUs unless a test says otherwise, so suites behave the same on GPU machines (nvidia-smi) and here.
    RGPU_LOCAL_GPUS: '0',
    ...opts.env,
  });
  const platform = await startPlatform(config, opts.logger ?? pino({ level: 'silent' }), { ...TEST_OVERRIDES, ...opts.overrides });
  const url = platform.url;
  return {
    url,
    secret,
    dataDir,
    platform,
    token: (claims = {}) => signToken(secret, { sub: claims.sub ?? 'tester', workspaces: claims.workspaces ?? [], admin: claims.admin }),
    async registerColorModel(workspaceId, token, o = {}) {
      const name = o.name ?? `colors-${process.pid}-${++modelCounter}`;
      const version = o.version ?? 'v1.0';
      const auth = { authorization: `Bearer ${token}` };
      const created = await fetch(`${url}/api/v1/models`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name, workspace_id: workspaceId, framework: 'pytorch', task: 'image-classification' }),
      });
      const model = (await created.json()) as { code: number; message: string; data: { model_id: number } };
      if (created.status !== 201) throw new Error(`register model: ${created.status} ${JSON.stringify(model)}`);
      const form = new FormData();
      form.set('version', version);
      form.set('labels', JSON.stringify(COLOR_LABELS));
      form.set('file', new Blob([new Uint8Array(colorClassifierOnnx())]), 'model.onnx');
      const uploaded = await fetch(`${url}/api/v1/models/${model.data.model_id}/versions`, { method: 'POST', headers: auth, body: form });
      if (uploaded.status !== 201) throw new Error(`upload version: ${uploaded.status} ${await uploaded.text()}`);
      return { modelId: model.data.model_id, version };
    },
    async stop() {
      await platform.stop();
      await dir?.cleanup();
    },
  };
}

