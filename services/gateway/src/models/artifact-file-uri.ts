import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactErrors } from './artifact-errors.js';

/**
 * Opens the file a `file://` artifact URI names, if and only if it lies inside one of the operator's artifact
 * roots after every symlink is resolved (DESIGN §3: `artifact_uri` must not read the server's files).
 *
 * The lexical check runs before the file system is touched, so a URI outside the roots gets the same answer
 * whether or not the file exists: the API cannot be used to probe for files elsewhere.
 */
export async function openAllowedFile(url: URL, roots: readonly string[]): Promise<FileHandle> {
  if (roots.length === 0) throw artifactErrors.fileUrisDisabled();
  let requested: string;
  try {
    requested = resolve(fileURLToPath(url));
  } catch {
    throw artifactErrors.invalidUri('file:// URI with a host or an invalid path');
  }
  const allowed = await allowedRoots(roots);
  if (!allowed.some((root) => isInside(root, requested))) throw artifactErrors.outsideRoots();

  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    throw artifactErrors.fileNotFound();
  }
  if (!allowed.some((root) => isInside(root, real))) throw artifactErrors.outsideRoots();

  // O_NOFOLLOW: if the last component was swapped for a symlink after realpath, the open fails instead of
  // following it out of the root.
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw artifactErrors.fileNotFound();
  }
  const stat = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  if (!stat.isFile()) {
    await handle.close();
    throw artifactErrors.fileNotFound();
  }
  return handle;
}

/** Each configured root as written (resolved) and as it really is, so a root that is itself a symlink works. */
async function allowedRoots(roots: readonly string[]): Promise<string[]> {
  const result = new Set<string>();
  for (const root of roots) {
    const absolute = resolve(root);
    result.add(absolute);
    try {
      result.add(await realpath(absolute));
    } catch {
      // A root that does not exist allows nothing beyond its lexical form, which cannot resolve either.
    }
  }
  return [...result];
}

function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
