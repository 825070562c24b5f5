import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `rgpu login` keeps between runs. */
export interface StoredConfig {
  url?: string;
  token?: string;
  workspace?: number;
}

/** $XDG_CONFIG_HOME/rgpu/config.json, else ~/.config/rgpu/config.json (XDG Base Directory defaults). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'rgpu', 'config.json');
}

export async function readConfig(path: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object') return {};
  const o = parsed as Record<string, unknown>;
  return {
    url: typeof o.url === 'string' ? o.url : undefined,
    token: typeof o.token === 'string' ? o.token : undefined,
    workspace: typeof o.workspace === 'number' ? o.workspace : undefined,
  };
}

/**
 * The token is a credential: the file is created 0600 in a 0700 directory and written through a temp file +
 * rename, so no reader ever sees a half-written file or a moment with wider permissions.
 */
export async function writeConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600); // a umask cannot widen it, but an existing tmp file would keep its old mode
  await rename(tmp, path);
}
