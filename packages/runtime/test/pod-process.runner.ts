import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import type { FakeKubeApiServer, Pod, RunningPod, RunPod } from '@remotegpu/testkit';

/**
 * The container runtime behind the fake kube-apiserver's kubelet (its `runPods` option): each pod the adapter's
 * Deployment makes runs as a real process, built from the pod spec as a kubelet would build the container:
 *
 * - its own IP, `127.x.y.z` (Linux routes all of 127/8 to loopback), so every replica listens on the same
 *   container port 8080 as in a cluster and the adapter's `http://<podIP>:8080` urls are real;
 * - the container's env, `secretKeyRef` values read from the Secret at start (as the kubelet does), `HOST` set to the
 *   pod IP (a pod's 0.0.0.0 is its own network namespace);
 * - emptyDir volumes as fresh directories, with the env paths that point into their mount paths rewritten;
 * - the termination message file: when the process exits its content is the pod's `lastState.terminated.message`.
 *
 * `command(pod)` chooses what runs (the real model server, or the test fixture) and may add env.
 */
export interface PodProcessOptions {
  kube: () => FakeKubeApiServer;
  /** Where the pods' emptyDirs live. */
  dir: string;
  command: (pod: Pod, env: Record<string, string>) => { command: string; args: string[]; env?: Record<string, string> };
  /** Until the process answers 200 on /v2/health/ready (default 20 s). */
  readyTimeoutMs?: number;
  /** Pods started so far (their IPs), for tests that look at one. */
  started?: string[];
}


export function podProcesses(options: PodProcessOptions): RunPod {
  // A /16 of our own per runner: concurrent test files do not share pod IPs.
  const subnet = `127.${100 + Math.floor(Math.random() * 150)}`;
  let next = 1;
  return async (pod: Pod): Promise<RunningPod> => {
    const n = next++;
    const ip = `${subnet}.${n >> 8}.${(n & 255) || 1}`;
    const podDir = join(options.dir, `${pod.metadata.name}-${n}`);
    const container = pod.spec.containers[0] as Pod['spec']['containers'][number] & {
      env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
      volumeMounts?: { name: string; mountPath: string }[];
      terminationMessagePath?: string;
    };
    const mounts = new Map<string, string>();
    for (const mount of container.volumeMounts ?? []) {
      const local = join(podDir, 'volumes', mount.name);
      await mkdir(local, { recursive: true });
      mounts.set(mount.mountPath, local);
    }
    const terminationPath = join(podDir, 'termination-log');
    await mkdir(podDir, { recursive: true });
    const remap = (value: string) => {
      if (container.terminationMessagePath && value === container.terminationMessagePath) return terminationPath;
      for (const [mountPath, local] of mounts) if (value === mountPath || value.startsWith(`${mountPath}/`)) return local + value.slice(mountPath.length);
      return value;
    };
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = remap(variable.value);
      else if (variable.valueFrom?.secretKeyRef) {
        const ref = variable.valueFrom.secretKeyRef;
        const secret = options.kube().get('Secret', pod.metadata.namespace, ref.name) as { data?: Record<string, string> } | undefined;
        const encoded = secret?.data?.[ref.key];
        // A real kubelet refuses to start the container (CreateContainerConfigError) when the Secret is missing.
        if (encoded === undefined) throw new Error(`CreateContainerConfigError: secret "${ref.name}" not found`);
        env[variable.name] = Buffer.from(encoded, 'base64').toString('utf8');
      }
    }
    env.HOST = ip;
    const run = options.command(pod, env);
    Object.assign(env, run.env);
    const child = spawn(run.command, run.args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    options.started?.push(ip);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 137 : 1))));
    const port = Number(env.PORT ?? 8080);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    let gone = false;
    void exited.then(() => (gone = true));
    while (!gone) {
      if ((await status(`http://${ip}:${port}/v2/health/ready`)) === 200) {
        return {
          ip,
          port,
          exited,
          stop: async () => {
            if (!gone) child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
            await exited;
            clearTimeout(timer);
            await rm(podDir, { recursive: true, force: true });
          },
        };
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`not ready within ${options.readyTimeoutMs ?? 20_000} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    // Exited before it served: the kubelet reports the termination message, else the log tail.
    const message = await readFile(terminationPath, 'utf8').catch(() => '');
    await rm(podDir, { recursive: true, force: true });
    throw new Error((message || stderr).trim() || `exited with code ${await exited}`);
  };
}

function status(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
