// Child processes of a benchmark: started until their `{"event":"listening","port":…}` line, stopped together.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/** Spawns `command args` (tracked in `children`) and resolves with its port once it logs that it listens. */
export function launchListening(children, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === 'listening') resolve({ child, port: msg.port });
        if (msg.event === 'failed') reject(new Error(`${args[0]} failed: ${msg.reason}`));
      } catch {
        /* not our line */
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** SIGTERM first (nginx's master then stops its workers; a SIGKILLed master would orphan them), SIGKILL after 2 s. */
export async function stopChildren(children) {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    alive.map(
      (c) =>
        new Promise((resolve) => {
          const force = setTimeout(() => c.kill('SIGKILL'), 2000);
          c.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}
