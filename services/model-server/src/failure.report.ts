import { writeFileSync } from 'node:fs';

/**
 * Says why the replica cannot serve: the `failed` line on stdout (the local runtime reads it), and the same line in
 * `RGPU_TERMINATION_MESSAGE_PATH` when set (Kubernetes copies that file into the container's
 * `lastState.terminated.message`, where the kubernetes runtime reads the reason). Read from the environment, not
 * the parsed configuration: a configuration that does not parse is reported this way too.
 */
export function reportFailure(line: string, env: Record<string, string | undefined> = process.env): void {
  process.stdout.write(line);
  const path = env.RGPU_TERMINATION_MESSAGE_PATH;
  if (!path) return;
  try {
    // Kubernetes reads at most 4096 bytes of it.
    writeFileSync(path, line.length > 4096 ? `${line.slice(0, 4095)}\n` : line);
  } catch {
    // Only a second channel for what stdout and stderr already said.
  }
}
