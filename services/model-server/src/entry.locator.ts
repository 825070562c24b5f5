import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built model-server entry point (`services/model-server/dist/main.js`) that local replicas run, for every
 * process that hosts a local runtime (`npm start`, the provisioner). Found from this package's own location, so
 * it works from a clone, an installed tree, and from the TypeScript sources under vitest alike.
 */
export function modelServerEntry(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot locate the @remotegpu/model-server package');
    dir = parent;
  }
  const entry = path.join(dir, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`the model server is not built (${entry} is missing): run \`npm run build\``);
  return entry;
}
