import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printGatewaySchema } from '../../src/graphql/index.js';

const SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../schema.graphql');

describe('schema.graphql', () => {
  it('matches the schema built from the type-graphql classes', async () => {
    const checkedIn = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    const built = await printGatewaySchema();
    // A plain boolean first, so a stale file fails with the fix in the message rather than only a long diff.
    expect(checkedIn === built, `${SCHEMA_FILE} is stale: run \`npm run schema\` and commit the result`).toBe(true);
  });

  it('is stable: building twice prints the same text', async () => {
    expect(await printGatewaySchema()).toBe(await printGatewaySchema());
  });
});
