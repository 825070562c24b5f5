import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printGatewaySchema } from './schema.js';

/**
 * `npm run schema`: writes `schema.graphql` at the repository root (or at the path given as the first argument).
 * The file sits four levels above this one, in `src/graphql` and in `dist/graphql` alike.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.resolve(process.argv[2] ?? path.join(here, '..', '..', '..', '..', 'schema.graphql'));

await writeFile(target, await printGatewaySchema(), 'utf8');
process.stdout.write(`wrote ${target}\n`);
