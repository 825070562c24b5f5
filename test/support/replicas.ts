import { readdirSync, readFileSync } from 'node:fs';

/** The built model-server entry every local replica runs; what tells a replica apart from other node processes. */
const MODEL_SERVER_MARK = 'model-server/dist/main.js';

export interface ReplicaProcessInfo {
  pid: number;
  /** `RGPU_MODEL_NAME` of the replica: the service id it serves. */
  serviceId: string;
  /** `RGPU_MODEL_VERSION` of the replica. */
  version: string;
  /** `CUDA_VISIBLE_DEVICES` of the replica ('' when it was given no GPU). */
  cudaVisibleDevices: string | undefined;
  /** The parent pid, from /proc/<pid>/stat (1 or a subreaper once the platform that started it died). */
  ppid: number;
}

/**
 * Every live model-server replica on this machine, read from /proc as a user (or `ps`) would see it: the command
 * line names the model-server entry, the environment names the service. Zombies (exited, not yet reaped) are
 * not counted: they serve nothing and hold no port.
 */
export function listReplicaProcesses(): ReplicaProcessInfo[] {
  const found: ReplicaProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(MODEL_SERVER_MARK)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The state and ppid follow the parenthesised command name, which may itself contain spaces.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') continue;
      const env = new Map<string, string>();
      for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
        const eq = pair.indexOf('=');
        if (eq > 0) env.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      found.push({
        pid,
        serviceId: env.get('RGPU_MODEL_NAME') ?? '',
        version: env.get('RGPU_MODEL_VERSION') ?? '',
        cudaVisibleDevices: env.get('CUDA_VISIBLE_DEVICES'),
        ppid: Number(ppid),
      });
    } catch {
      // The process exited while it was being read, or is not ours to read.
    }
  }
  return found;
}

/** The PIDs of the live replicas of one service, sorted. */
export function replicaPids(serviceId: string): number[] {
  return listReplicaProcesses()
    .filter((p) => p.serviceId === serviceId)
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

/** The live replicas whose parent is `ppid` (a given platform process), whatever service they serve. */
export function replicasOfParent(ppid: number): ReplicaProcessInfo[] {
  return listReplicaProcesses().filter((p) => p.ppid === ppid);
}

/**
 * Whether a process still runs. An exited process that its (new) parent has not reaped yet is a zombie: it
 * counts as gone, although `kill(pid, 0)` would still succeed on it.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
