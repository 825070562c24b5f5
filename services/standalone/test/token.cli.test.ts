import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hs256Verifier } from '@remotegpu/auth';

/** The built CLI, as `npm run token` runs it (build first: spawned processes run from dist/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/token.cli.js', import.meta.url));
const SECRET = 'token-cli-secret-0123456789abcdefghijkl';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env: { ...process.env, RGPU_JWT_SECRET: SECRET }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const token = (...args: string[]) => run(process.execPath, [CLI, ...args]);

describe('npm run token', () => {
  it('prints its usage on --help and -h and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const res = await token(flag);
      expect(res.code, flag).toBe(0);
      expect(res.stdout).toMatch(/^Usage: npm run token -- --sub <name>/);
      expect(res.stdout).toMatch(/--ttl <duration>/);
      expect(res.stderr).toBe('');
    }
  });

  it('prints its usage through npm too', async () => {
    const res = await run('npm', ['run', '-s', 'token', '--', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: npm run token/);
  });

  it('answers an unknown flag or a bad value with the problem and the usage, exit 2', async () => {
    for (const args of [['--bogus'], ['--sub', 'alice', '--workspace', '456', 'stray'], ['--sub', 'alice'], ['--sub', 'a', '--workspace', 'x'], ['--sub', 'a', '--admin', '--ttl', 'forever'], ['--sub', 'a', '--admin', '--ttl', '0s']]) {
      const res = await token(...args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^token: .+\n\nUsage: npm run token/);
    }
    expect((await token('--bogus')).stderr).toMatch(/Unknown option '--bogus'/);
  });

  it('issues a token that the platform accepts, always with an expiry (24h unless --ttl)', async () => {
    const verifier = hs256Verifier(SECRET);
    const day = await token('--sub', 'alice', '--workspace', '456', '--workspace', '457');
    expect(day.code).toBe(0);
    const alice = await verifier.verify(day.stdout.trim());
    expect(alice).toMatchObject({ sub: 'alice', workspaces: [456, 457], admin: false });
    expect(alice.expiresAt - Date.now()).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(alice.expiresAt - Date.now()).toBeLessThanOrEqual(24 * 3600_000);

    const short = await token('--sub', 'root', '--admin', '--ttl', '90s');
    const root = await verifier.verify(short.stdout.trim());
    expect(root).toMatchObject({ sub: 'root', admin: true });
    expect(root.expiresAt - Date.now()).toBeGreaterThan(60_000);
    expect(root.expiresAt - Date.now()).toBeLessThanOrEqual(90_000);
  });
});
