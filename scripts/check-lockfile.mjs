#!/usr/bin/env node
// Fails when package-lock.json no longer matches the workspaces' package.json files (issue 6, point 16).
// `npm install --package-lock-only` recomputes the lock without installing anything; a lock in sync is left
// byte-for-byte unchanged. On drift the synced lock is left in place, so committing it is the fix.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockPath = join(root, 'package-lock.json');
const before = readFileSync(lockPath, 'utf8');
execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const after = readFileSync(lockPath, 'utf8');
if (after !== before) {
  process.stderr.write(
    'package-lock.json is out of sync with the workspaces\' package.json files.\n' +
      'It has been rewritten in place (npm install --package-lock-only): review `git diff package-lock.json` and commit it.\n',
  );
  process.exit(1);
}
process.stdout.write('package-lock.json is in sync with every workspace\n');
