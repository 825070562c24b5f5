import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isConfigError } from '@remotegpu/core';
import { loadGatewayConfig } from '@remotegpu/gateway';
import { loadProvisionerConfig } from '../../services/provisioner/src/provisioner.config.js';
import { loadRouterConfig } from '../../services/router/src/router.config.js';
import { ENTRY_POINTS } from './entry-points.js';

/**
 * docker-compose.yml and .env.example (issue 9). No Docker engine runs here: Debian's docker-compose 1.29 validates
 * the file without one (`docker-compose config -q`) when it is installed (`apt-get install --no-install-recommends
 * docker-compose`; .ci/run tries to); without it the test says so and the checks below, which always run, read the
 * file themselves: services, healthchecks, depends_on conditions, volumes, profiles, and the environment each
 * process gets, fed to that process's own configuration loader.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_TEXT = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const ENV_EXAMPLE_TEXT = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
const SECRETS = { RGPU_JWT_SECRET: 'j'.repeat(40), RGPU_ARTIFACT_SECRET: 'a'.repeat(40) };
/** What the Dockerfile's runtime stages set (ENV), under whatever compose sets. */
const IMAGE_ENV = { NODE_ENV: 'production', HOST: '0.0.0.0', RGPU_DATA_DIR: '/data' };

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number };
  profiles?: string[];
  network_mode?: string;
  networks?: { default?: { aliases?: string[] } };
  deploy?: { resources?: { reservations?: { devices?: { driver: string; count: string | number; capabilities: string[] }[] } } };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(trimmed);
    if (!match) throw new Error(`.env.example: not NAME=value: ${line}`);
    vars[match[1]] = match[2];
  }
  return vars;
}
const ENV_EXAMPLE = parseEnvFile(ENV_EXAMPLE_TEXT);

/** Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$(?:\$|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\})/g, (whole, bare?: string, name?: string, colon?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const variable = bare ?? name!;
    const value = vars[variable];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '-') return missing ? arg! : value!;
    if (op === '?') {
      if (missing) throw new Error(`${variable}: ${arg}`);
      return value!;
    }
    return value ?? '';
  });
}

function interpolated<T>(value: T, vars: Record<string, string | undefined>): T {
  if (typeof value === 'string') return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((v) => interpolated(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolated(v, vars)])) as T;
  return value;
}

/** The file as compose sees it: anchors and merge keys resolved, variables from .env.example plus `extra`. */
function composeWith(extra: Record<string, string> = SECRETS): ComposeFile {
  const raw = parse(COMPOSE_TEXT, { merge: true }) as ComposeFile & Record<string, unknown>;
  return interpolated({ services: raw.services, volumes: raw.volumes }, { ...ENV_EXAMPLE, ...extra });
}

const PLATFORM = ['gateway', 'provisioner', 'router', 'provisioner-gpu', 'router-gpu'] as const;
const PORTS: Record<(typeof PLATFORM)[number], number> = { gateway: 8080, router: 8081, 'router-gpu': 8081, provisioner: 8082, 'provisioner-gpu': 8082 };

/** What the process in a service sees: the image's ENV, then compose's environment (empty = unset, as the configs read it). */
function processEnv(service: ComposeService): Record<string, string> {
  return { ...IMAGE_ENV, ...service.environment };
}

function findCompose(): { command: string; args: string[] } | null {
  for (const candidate of [{ command: 'docker-compose', args: [] as string[] }, { command: 'docker', args: ['compose'] }]) {
    const probe = spawnSync(candidate.command, [...candidate.args, 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (!probe.error && probe.status === 0) return candidate;
  }
  return null;
}

function runCompose(tool: { command: string; args: string[] }, args: string[], env: Record<string, string>) {
  // A clean environment: the variables come from .env.example and `env`, not from whoever runs the tests.
  return spawnSync(tool.command, [...tool.args, '--env-file', path.join(ROOT, '.env.example'), '-f', path.join(ROOT, 'docker-compose.yml'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
}

describe('docker-compose.yml', () => {
  it('validates with docker-compose config -q (when the tool is installed), and refuses to start without the secrets', () => {
    const tool = findCompose();
    if (!tool) {
      console.warn(
        'docker-compose is not installed (apt-get install -y --no-install-recommends docker-compose): `docker-compose config -q` was NOT run; ' +
          'the structural checks of this file still run',
      );
      return;
    }
    const ok = runCompose(tool, ['config', '-q'], SECRETS);
    expect(ok.stderr + ok.stdout).toBe('');
    expect(ok.status).toBe(0);
    const missing = runCompose(tool, ['config', '-q'], { RGPU_ARTIFACT_SECRET: SECRETS.RGPU_ARTIFACT_SECRET });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/set RGPU_JWT_SECRET in \.env/);
    // The tool's resolved file says what this test's own reading says, environment by environment.
    const resolved = parse(runCompose(tool, ['config'], SECRETS).stdout) as ComposeFile;
    const mine = composeWith();
    for (const name of PLATFORM) expect(resolved.services[name].environment, name).toEqual(mine.services[name].environment);
  });

  it('has MongoDB and NATS JetStream with healthchecks and volumes, and the platform from this repository\'s image', () => {
    const { services, volumes } = composeWith();
    expect(Object.keys(services).sort()).toEqual(['gateway', 'mongo', 'nats', 'provisioner', 'provisioner-gpu', 'router', 'router-gpu']);
    expect(services.mongo.image).toMatch(/^mongo:\d/);
    expect(services.mongo.volumes).toEqual(['mongo-data:/data/db']);
    expect(services.mongo.healthcheck?.test.join(' ')).toMatch(/mongosh .*ping/);
    expect(services.nats.image).toMatch(/^nats:2\.\d+/);
    expect(services.nats.command).toContain('-js');
    expect(services.nats.command?.join(' ')).toMatch(/-sd \/data/);
    expect(services.nats.volumes).toEqual(['nats-data:/data']);
    expect(services.nats.healthcheck?.test.join(' ')).toMatch(/healthz\?js-enabled-only=true/);
    const dockerfileStages = [...readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const name of PLATFORM) {
      const s = services[name];
      expect(s.build?.context, name).toBe('.');
      expect(dockerfileStages, `${name} builds a Dockerfile stage`).toContain(s.build?.target);
      expect(s.command?.[0], name).toBe('node');
      expect(ENTRY_POINTS as readonly string[], name).toContain(s.command?.[1]);
      expect(s.command?.[1], name).toContain(name.replace('-gpu', ''));
      expect(s.healthcheck?.test, name).toEqual(['CMD', 'node', 'scripts/probe.mjs', `http://127.0.0.1:${PORTS[name]}/readyz`]);
      expect(s.environment?.RGPU_STORE_URL, name).toBe('mongodb://mongo:27017/rgpu');
      expect(s.environment?.NATS_URL, name).toBe('nats://nats:4222');
    }
    // Every named volume is declared, and every declared one is used.
    const used = Object.values(services).flatMap((s) => (s.volumes ?? []).map((v) => v.split(':')[0]));
    expect([...new Set(used)].sort()).toEqual(Object.keys(volumes).sort());
  });

  it('starts each process after what it needs is healthy (depends_on conditions on services that have healthchecks)', () => {
    const { services } = composeWith();
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        expect(services[dependency]?.healthcheck, `${dependency} has a healthcheck`).toBeDefined();
      }
      expect(s.healthcheck, `${name} has a healthcheck`).toBeDefined();
    }
    for (const name of ['gateway', 'provisioner', 'provisioner-gpu']) expect(Object.keys(services[name].depends_on ?? {}).sort(), name).toEqual(['mongo', 'nats']);
    expect(services.router.depends_on).toEqual({ provisioner: { condition: 'service_healthy' } });
    expect(services['router-gpu'].depends_on).toEqual({ 'provisioner-gpu': { condition: 'service_healthy' } });
  });

  it('puts each router in its provisioner\'s network namespace (replicas listen on its loopback), reachable by the gateway', () => {
    const { services } = composeWith();
    for (const [router, provisioner] of [['router', 'provisioner'], ['router-gpu', 'provisioner-gpu']] as const) {
      expect(services[router].network_mode).toBe(`service:${provisioner}`);
      expect(services[router].profiles).toEqual(services[provisioner].profiles);
      expect(services[router].ports, 'published on the provisioner').toBeUndefined();
      expect(services[provisioner].ports).toEqual(['127.0.0.1:8081:8081']);
      const gatewayRouter = new URL(services.gateway.environment!.RGPU_ROUTER_URL);
      expect(services[provisioner].networks?.default?.aliases).toContain(gatewayRouter.hostname);
      expect(Number(gatewayRouter.port)).toBe(PORTS[router]);
    }
    expect(services.gateway.ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('reserves the host\'s GPUs for the provisioner only in the optional gpu profile, with the gpu image; cpu is the default', () => {
    const { services } = composeWith();
    const gpu = services['provisioner-gpu'];
    expect(gpu.profiles).toEqual(['gpu']);
    expect(gpu.build?.target).toBe('gpu');
    expect(gpu.deploy?.resources?.reservations?.devices).toEqual([{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
    expect(gpu.environment?.RGPU_LOCAL_GPUS).toBe(''); // as many as nvidia-smi lists
    expect(services.provisioner.profiles).toEqual(['cpu']);
    expect(services.provisioner.deploy).toBeUndefined();
    expect(services.provisioner.environment?.RGPU_LOCAL_GPUS).toBe('0');
    for (const name of ['mongo', 'nats', 'gateway']) expect(services[name].profiles, name).toBeUndefined();
    expect(ENV_EXAMPLE.COMPOSE_PROFILES).toBe('cpu');
  });

  it('uses every variable of .env.example, and .env.example names every variable it uses', () => {
    const referenced = new Set([...COMPOSE_TEXT.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
    // COMPOSE_PROFILES is read by compose itself, not by the file.
    const defined = Object.keys(ENV_EXAMPLE).filter((name) => name !== 'COMPOSE_PROFILES');
    expect(defined.filter((name) => !referenced.has(name)), 'in .env.example, unused').toEqual([]);
    expect([...referenced].filter((name) => !(name in ENV_EXAMPLE)), 'used, not in .env.example').toEqual([]);
    expect(defined.length).toBeGreaterThan(20);
  });

  it('keeps secrets out of the file: they come from .env only, and compose refuses to start without them', () => {
    expect(ENV_EXAMPLE.RGPU_JWT_SECRET).toBe('');
    expect(ENV_EXAMPLE.RGPU_ARTIFACT_SECRET).toBe('');
    expect(() => composeWith({})).toThrow(/RGPU_(JWT|ARTIFACT)_SECRET: set RGPU_(JWT|ARTIFACT)_SECRET in \.env/);
    for (const match of COMPOSE_TEXT.matchAll(/(RGPU_JWT_SECRET|RGPU_ARTIFACT_SECRET):\s*(.*)/g)) {
      expect(match[2], match[0]).toMatch(/^\$\{RGPU_(JWT|ARTIFACT)_SECRET:\?/);
    }
    const { services } = composeWith();
    expect(Object.keys(services.provisioner.environment!)).not.toContain('RGPU_JWT_SECRET');
    expect(Object.keys(services.router.environment!)).not.toContain('RGPU_ARTIFACT_SECRET');
  });

  it('gives each process an environment its own configuration loader accepts, in both profiles', () => {
    const { services } = composeWith();
    const run = <T>(name: string, load: () => T): T => {
      try {
        return load();
      } catch (err) {
        if (isConfigError(err)) throw new Error(`${name}: ${err.problems.join('; ')}`);
        throw err;
      }
    };
    const gateway = run('gateway', () => loadGatewayConfig(processEnv(services.gateway)));
    expect(gateway).toMatchObject({ host: '0.0.0.0', port: 8080, storeUrl: 'mongodb://mongo:27017/rgpu', routerUrl: 'http://runtime:8081', publicUrl: 'http://localhost:8081' });
    for (const name of ['router', 'router-gpu']) {
      expect(run(name, () => loadRouterConfig(processEnv(services[name]))), name).toMatchObject({ host: '0.0.0.0', port: 8081, publicUrl: 'http://localhost:8081' });
    }
    for (const name of ['provisioner', 'provisioner-gpu']) {
      const config = run(name, () => loadProvisionerConfig(processEnv(services[name])));
      expect(config, name).toMatchObject({
        host: '0.0.0.0',
        port: 8082,
        runtime: 'local',
        storeUrl: 'mongodb://mongo:27017/rgpu',
        artifactDelivery: { kind: 'gateway', baseUrl: 'http://gateway:8080' },
        artifactSecret: SECRETS.RGPU_ARTIFACT_SECRET,
      });
      expect(config.localGpus, name).toBe(name === 'provisioner' ? 0 : undefined);
    }
    // A value from .env reaches the process and is checked by it.
    const tuned = composeWith({ ...SECRETS, RGPU_ROUTER_QUEUE_BUDGET_MS: '0' });
    expect(() => run('router', () => loadRouterConfig(processEnv(tuned.services.router)))).toThrow(/RGPU_ROUTER_QUEUE_BUDGET_MS/);
  });
});
