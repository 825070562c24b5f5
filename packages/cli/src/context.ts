import type { Command } from 'commander';
import { ApiClient } from './api.client.js';
import { configPath, readConfig, type StoredConfig } from './config.store.js';

/** Options every command accepts (defined once on the root program). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  lang?: string;
  json?: boolean;
  workspace?: number;
}

/** A usage problem found after parsing (missing login, bad value): exit code 2 like commander's own. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Context {
  api: ApiClient;
  json: boolean;
  config: StoredConfig;
  /** Flag, RGPU_WORKSPACE, login's --workspace, else the token's only workspace. */
  workspace(): number;
  /** Only an explicit --workspace or RGPU_WORKSPACE: list commands filter by it, else show every visible one. */
  workspaceIfKnown(): number | undefined;
  out(text: string): void;
}

/**
 * Where each setting comes from, first found wins: flag, environment (RGPU_URL, RGPU_TOKEN, RGPU_WORKSPACE),
 * the config file `rgpu login` wrote. The language: --lang, else LC_ALL / LC_MESSAGES / LANG when they name zh or
 * en, else none (the platform answers in Chinese).
 */
export async function contextOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): Promise<Context> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const config = await readConfig(configPath(env));
  const url = opts.url ?? env.RGPU_URL ?? config.url;
  const token = opts.token ?? env.RGPU_TOKEN ?? config.token;
  if (!url) throw new UsageError('no platform URL: run `rgpu login --url <url>` or set RGPU_URL');
  if (!token) throw new UsageError('no token: run `rgpu login` or set RGPU_TOKEN');
  const api = new ApiClient({ url, token, lang: languageOf(opts.lang, env) });
  return {
    api,
    json: !!opts.json,
    config,
    workspace() {
      const fromEnv = env.RGPU_WORKSPACE ? Number(env.RGPU_WORKSPACE) : undefined;
      const ws = opts.workspace ?? fromEnv ?? config.workspace ?? onlyWorkspaceOf(token);
      if (ws === undefined || !Number.isInteger(ws) || ws < 1)
        throw new UsageError('which workspace? pass --workspace <id> (or set RGPU_WORKSPACE, or `rgpu login --workspace`)');
      return ws;
    },
    workspaceIfKnown: () => opts.workspace ?? (env.RGPU_WORKSPACE ? Number(env.RGPU_WORKSPACE) : undefined),
    out: (text) => process.stdout.write(text),
  };
}

export function languageOf(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const raw = flag ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? '';
  const lower = raw.toLowerCase();
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  if (flag) throw new UsageError(`--lang must be zh or en, not "${flag}"`);
  return undefined;
}

/** Reads the `workspaces` claim without verifying (the platform verifies); a guess only for a default. */
function onlyWorkspaceOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload || payload.length > 16_384) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { workspaces?: unknown };
    const ws = claims.workspaces;
    return Array.isArray(ws) && ws.length === 1 && typeof ws[0] === 'number' ? ws[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Parses integer options for commander (`--replicas 2`), a usage error otherwise. */
export function intOption(name: string, min = 0): (v: string) => number {
  return (v) => {
    if (!/^\d{1,10}$/.test(v) || Number(v) < min) throw new UsageError(`${name} must be an integer ≥ ${min}, not "${v}"`);
    return Number(v);
  };
}

/** Memory as bytes or with a binary unit: 1073741824, 512Mi, 1Gi, 1.5GiB. */
export function memoryOption(v: string): number {
  const m = /^(\d{1,13}(?:\.\d{1,6})?)\s*(|b|ki|kib|mi|mib|gi|gib|ti|tib)$/i.exec(v.trim());
  if (!m) throw new UsageError(`--memory must be bytes or a size such as 512Mi or 2Gi, not "${v}"`);
  const unit = m[2].toLowerCase().replace(/b$/, '');
  const scale = { '': 1, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * scale);
}

export function numberOption(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number ≥ 0, not "${v}"`);
    return n;
  };
}
