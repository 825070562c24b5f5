import { parseArgs } from 'node:util';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseDuration, signToken } from '@remotegpu/gateway';
import { SECRET_FILE } from './secret.js';

const USAGE = `Usage: npm run token -- --sub <name> (--workspace <id> [--workspace <id>...] | --admin) [--ttl <duration>]

Prints a bearer token (HS256 JWT) for the platform's REST, GraphQL and data-plane APIs.

Options:
  --sub <name>        the token's subject (who is calling), required
  --workspace <id>    a workspace the token may act in; repeat it or give a comma list (456,457)
  --admin             the token may act in every workspace
  --ttl <duration>    lifetime: a number followed by s, m, h or d (default 24h); every token expires
  -h, --help          print this help

The secret is RGPU_JWT_SECRET, or the one standalone mode generated into RGPU_DATA_DIR (default ./data).
`;

/** A mistake on the command line: the message, then the usage, and exit status 2 (as getopt tools do). */
class UsageError extends Error {}

const OPTIONS = {
  sub: { type: 'string' },
  workspace: { type: 'string', multiple: true },
  admin: { type: 'boolean', default: false },
  ttl: { type: 'string', default: '24h' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parse(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // node:util reports unknown options and stray arguments with an ERR_PARSE_ARGS_* code.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/**
 * `npm run token -- --sub alice --workspace 456 [--workspace 457] [--admin] [--ttl 24h]` prints a token
 * signed with RGPU_JWT_SECRET, or with the secret standalone mode generated into RGPU_DATA_DIR.
 */
async function main(): Promise<void> {
  const values = parse(process.argv.slice(2));
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.sub) throw new UsageError('--sub is required (the token subject, e.g. --sub alice)');
  const workspaces = (values.workspace ?? []).flatMap((w) => w.split(',')).map((w) => {
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--workspace must be a positive integer, got "${w}"`);
    return n;
  });
  if (!workspaces.length && !values.admin) throw new UsageError('give at least one --workspace, or --admin');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseDuration(values.ttl);
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as Error).message}`);
  }
  if (ttlSeconds < 1) throw new UsageError('--ttl must be at least 1s: every token expires');
  const secret =
    process.env.RGPU_JWT_SECRET ||
    (await readFile(path.join(path.resolve(process.env.RGPU_DATA_DIR || './data'), SECRET_FILE), 'utf8').catch(() => {
      throw new Error('no RGPU_JWT_SECRET set and no generated secret in the data directory: run `npm start` once first');
    })).trim();
  const token = await signToken(secret, { sub: values.sub, workspaces, admin: values.admin, ttlSeconds });
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof UsageError) {
    process.stderr.write(`\n${USAGE}`);
    process.exit(2);
  }
  process.exit(1);
});
