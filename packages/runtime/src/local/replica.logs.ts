import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ReplicaLogFollow, ReplicaLogLine, ReplicaLogQuery } from '../runtime.port.js';

export interface ReplicaLogLimits {
  /** Lines kept in memory per replica (the newest). */
  linesPerReplica: number;
  /** Replicas of a service whose lines are kept after they exited (the newest exited ones), like a pod's previous container. */
  exitedReplicasKept: number;
  /** A replica's log file is rotated to `<replica>.log.1` past this size; so at most twice it on disk per replica. */
  fileBytes: number;
}

export const DEFAULT_LOG_LIMITS: ReplicaLogLimits = { linesPerReplica: 1000, exitedReplicasKept: 8, fileBytes: 5 * 1024 * 1024 };

/** A fixed-size ring of the newest lines. */
class LineRing {
  private readonly lines: ReplicaLogLine[] = [];
  private start = 0;

  constructor(private readonly capacity: number) {}

  push(line: ReplicaLogLine): void {
    if (this.lines.length < this.capacity) this.lines.push(line);
    else {
      this.lines[this.start] = line;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  all(): ReplicaLogLine[] {
    return [...this.lines.slice(this.start), ...this.lines.slice(0, this.start)];
  }
}

/** A replica's log file, appended synchronously (lines are short and few), rotated once past its size. */
class LogFile {
  private fd: number | null = null;
  private bytes = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  append(line: ReplicaLogLine): void {
    const text = `${line.at} ${line.stream} ${line.line}\n`;
    try {
      if (this.fd === null) this.fd = openSync(this.path, 'a', 0o600);
      if (this.bytes + text.length > this.maxBytes) {
        closeSync(this.fd);
        renameSync(this.path, `${this.path}.1`);
        this.fd = openSync(this.path, 'w', 0o600);
        this.bytes = 0;
      }
      this.bytes += writeSync(this.fd, text);
    } catch (err) {
      // A full disk must not take the replica (or the platform) down; memory still has the lines.
      this.close();
      this.logger.warn({ err, path: this.path }, 'could not write a replica log line');
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

interface ReplicaLog {
  ring: LineRing;
  file: LogFile;
  exited: boolean;
}

interface Follower {
  replica?: string;
  onLine(line: ReplicaLogLine): void;
}

/**
 * What the local runtime keeps of one service's replica output: the newest lines of each replica in memory (for
 * `logs()`), every line appended to `<stateDir>/logs/<service>/<replica>.log` (rotated, bounded) for someone
 * reading the disk, and live followers. Lines are never parsed here; the protocol lines on stdout (`listening`,
 * `failed`) are kept like any other, since they tell a reader when the model loaded or why it did not.
 */
export class ServiceLogBook {
  private readonly replicas = new Map<string, ReplicaLog>();
  private readonly followers = new Set<Follower>();
  private readonly dir: string;

  constructor(
    stateDir: string,
    serviceId: string,
    private readonly limits: ReplicaLogLimits,
    private readonly logger: Logger,
  ) {
    this.dir = join(stateDir, 'logs', serviceId);
  }

  append(replica: string, stream: ReplicaLogLine['stream'], text: string): void {
    let log = this.replicas.get(replica);
    if (!log) {
      try {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        this.logger.warn({ err }, 'could not create the replica log directory');
      }
      log = { ring: new LineRing(this.limits.linesPerReplica), file: new LogFile(join(this.dir, `${replica}.log`), this.limits.fileBytes, this.logger), exited: false };
      this.replicas.set(replica, log);
    }
    const line: ReplicaLogLine = { replica, at: new Date().toISOString(), stream, line: text };
    log.ring.push(line);
    log.file.append(line);
    for (const f of this.followers) {
      if (f.replica !== undefined && f.replica !== replica) continue;
      try {
        f.onLine(line);
      } catch (err) {
        this.logger.warn({ err }, 'a log follower threw');
      }
    }
  }

  /** The replica is gone: its lines stay (for "why did it crash"), but only the newest few exited replicas' do. */
  exited(replica: string): void {
    const log = this.replicas.get(replica);
    if (!log) return;
    log.exited = true;
    log.file.close();
    const exited = [...this.replicas.entries()].filter(([, l]) => l.exited);
    for (const [id] of exited.slice(0, Math.max(0, exited.length - this.limits.exitedReplicasKept))) {
      this.replicas.delete(id);
      rmSync(join(this.dir, `${id}.log`), { force: true });
      rmSync(join(this.dir, `${id}.log.1`), { force: true });
    }
  }

  read(query: ReplicaLogQuery): ReplicaLogLine[] {
    const since = query.since?.toISOString();
    let lines: ReplicaLogLine[] = [];
    for (const [id, log] of this.replicas) {
      if (query.replica !== undefined && query.replica !== id) continue;
      lines.push(...log.ring.all());
    }
    if (since !== undefined) lines = lines.filter((l) => l.at >= since);
    // Per-replica rings are each in order; one stable sort by time merges them.
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return query.tail !== undefined ? lines.slice(Math.max(0, lines.length - query.tail)) : lines;
  }

  follow(query: ReplicaLogQuery, onLine: (line: ReplicaLogLine) => void): ReplicaLogFollow {
    const follower: Follower = { replica: query.replica, onLine };
    this.followers.add(follower);
    return { close: () => void this.followers.delete(follower) };
  }

  /** The service is removed: memory, files and followers go. */
  discard(): void {
    for (const log of this.replicas.values()) log.file.close();
    this.replicas.clear();
    this.followers.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
