import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** One replica process as written to `replicas.json`. */
export interface ReplicaRecord {
  pid: number;
  serviceId: string;
  replicaId: string;
  /** argv of the process (command first), compared with /proc/<pid>/cmdline before a kill. */
  command: string[];
}

const FILE_NAME = 'replicas.json';

/**
 * Remembers the processes this runtime started in `stateDir/replicas.json`, so that after a crash of the
 * whole platform the next start can kill what is still running. Replicas normally exit on their own when
 * their stdin closes with the parent; this catches the ones that hang or ignore it.
 *
 * Writes are synchronous (temp file + rename): the file is tiny, changes only when a process starts or
 * exits, and must be accurate at the moment the platform dies.
 */
export class ReplicaRegistry {
  private readonly records = new Map<number, ReplicaRecord>();
  private readonly file: string;

  constructor(private readonly stateDir: string, private readonly logger: Logger) {
    this.file = join(stateDir, FILE_NAME);
  }

  /** Kills the processes a previous instance left running (only when their command line still matches: pids get reused), then starts a fresh file. */
  async killOrphans(): Promise<number> {
    mkdirSync(this.stateDir, { recursive: true });
    const orphans = this.readFile().filter((record) => isAlive(record.pid) && commandMatches(record));
    for (const orphan of orphans) {
      this.logger.warn({ ...orphan }, 'killing a replica process left behind by a previous run');
      try {
        process.kill(orphan.pid, 'SIGKILL');
      } catch {
        // exited between the check and the kill
      }
    }
    await waitUntilGone(orphans.map((o) => o.pid), 5_000);
    this.records.clear();
    this.write();
    return orphans.length;
  }

  add(record: ReplicaRecord): void {
    this.records.set(record.pid, record);
    this.write();
  }

  delete(pid: number): void {
    if (this.records.delete(pid)) this.write();
  }

  private readFile(): ReplicaRecord[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      const list = (parsed as { replicas?: unknown }).replicas;
      return Array.isArray(list) ? list.filter(isRecord) : [];
    } catch {
      return [];
    }
  }

  private write(): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify({ replicas: [...this.records.values()] }, null, 2));
      renameSync(temp, this.file);
    } catch (err) {
      // Losing the record only weakens orphan cleanup; it must not take replicas down.
      this.logger.error({ err, file: this.file }, 'could not write the replica registry');
    }
  }
}

function isRecord(value: unknown): value is ReplicaRecord {
  const r = value as ReplicaRecord;
  return (
    typeof r === 'object' && r !== null && Number.isInteger(r.pid) && r.pid > 0 &&
    Array.isArray(r.command) && r.command.every((part) => typeof part === 'string')
  );
}

/** Linux only (/proc); elsewhere nothing is killed, because a reused pid could belong to anything. */
function commandMatches(record: ReplicaRecord): boolean {
  try {
    const argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return argv.length === record.command.length && argv.every((part, i) => part === record.command[i]);
  } catch {
    return false;
  }
}

/** Alive and not a zombie (a zombie answers signal 0 but runs nothing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
