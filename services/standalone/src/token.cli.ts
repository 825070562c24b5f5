import { parseArgs } from 'node:util';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseDuration, signToken } from '@remotegpu/gateway';
import { SECRET_FILE } from './secret.js';

/**
 * `npm run token -- --sub alice --workspace 456 [--workspace 457] [--admin] [--ttl 24h]` prints a token
 * signed with RGPU_JWT_SECRET, or with the secret standalone mode generated into RGPU_DATA_DIR.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      workspace: { type: 'string', multiple: true },
      admin: { type: 'boolean', default: false },
      ttl: { type: 'string', default: '24h' },
    },
    strict: true,
  });
  if (!values.sub) throw new Error('--sub is required (the token subject, e.g. --sub alice)');
  const workspaces = (values.workspace ?? []).flatMap((w) => w.split(',')).map((w) => {
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--workspace must be a positive integer, got "${w}"`);
    return n;
  });
  if (!workspaces.length && !values.admin) throw new Error('give at least one --workspace, or --admin');
  const secret =
    process.env.RGPU_JWT_SECRET ||
    (await readFile(path.join(path.resolve(process.env.RGPU_DATA_DIR || './data'), SECRET_FILE), 'utf8').catch(() => {
      throw new Error('no RGPU_JWT_SECRET set and no generated secret in the data directory: run `npm start` once first');
    })).trim();
  const token = await signToken(secret, {
    sub: values.sub,
    workspaces,
    admin: values.admin,
    ttlSeconds: parseDuration(values.ttl!),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
