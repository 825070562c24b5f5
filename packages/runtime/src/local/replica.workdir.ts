import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReplicaDirs } from './replica.env.js';

/**
 * Each replica's own HOME and TMPDIR, `<stateDir>/replicas/<replicaId>/{home,tmp}`, like a pod's emptyDir:
 * created before its first start, kept across restarts of its process, removed when the replica is gone.
 * What libraries write "to the user's home" or "to /tmp" thus stays inside the data directory.
 */
export class ReplicaWorkdirs {
  private readonly root: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'replicas');
  }

  /** Synchronous: it runs right before a spawn, and two mkdirs cost less than making the spawn async. */
  prepare(replicaId: string): ReplicaDirs {
    const dir = join(this.root, replicaId);
    const dirs = { home: join(dir, 'home'), tmp: join(dir, 'tmp') };
    mkdirSync(dirs.home, { recursive: true, mode: 0o700 });
    mkdirSync(dirs.tmp, { recursive: true, mode: 0o700 });
    return dirs;
  }

  remove(replicaId: string): Promise<void> {
    return rm(join(this.root, replicaId), { recursive: true, force: true });
  }

  /** At start, after orphans were killed: nothing in there belongs to a live replica any more. */
  removeAll(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}
