import type { KubernetesRuntimeOptions } from './kubernetes/kubernetes.options.js';
import { KubernetesRuntime } from './kubernetes/kubernetes.runtime.js';
import type { LocalRuntimeOptions } from './local/local.options.js';
import { LocalRuntime } from './local/local.runtime.js';
import type { Runtime } from './runtime.port.js';

/** DESIGN §7 `RGPU_RUNTIME` and what each adapter needs; a discriminated union so each kind names its own settings. */
export type RuntimeConfig = { kind: 'local'; local: LocalRuntimeOptions } | { kind: 'kubernetes'; kubernetes: KubernetesRuntimeOptions };

/** The Runtime adapter the configuration names, chosen at the edge (the provisioner only sees the port). */
export function createRuntime(config: RuntimeConfig): Runtime {
  switch (config.kind) {
    case 'local':
      return new LocalRuntime(config.local);
    case 'kubernetes':
      return new KubernetesRuntime(config.kubernetes);
    default:
      return assertNever(config);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown runtime ${JSON.stringify(value)}`);
}
