import type { EventBus } from '@remotegpu/bus';
import type { Runtime } from '@remotegpu/runtime';
import type { Store } from '@remotegpu/store';
import type { Logger } from 'pino';
import { Provisioner, type ProvisionerOptions } from '../provisioner.js';
import type { LeaderTerm } from './leader-lease.port.js';

export interface ProvisionerTermDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** A fresh runtime per term: a stopped local runtime cannot start again, and a new term starts from nothing. */
  createRuntime(): Runtime;
  provisioner?: Omit<ProvisionerOptions, 'store' | 'bus' | 'runtime' | 'logger'>;
}

/**
 * One leadership term of the provisioner process: the runtime (its start kills replicas a crashed predecessor on
 * this host left behind) and the reconcile loop (its first resync brings every service to its desired state).
 * Stopping the term stops the loop first, then the replicas: nothing reconciles with a half-stopped runtime.
 */
export async function startProvisionerTerm(deps: ProvisionerTermDeps): Promise<LeaderTerm> {
  const runtime = deps.createRuntime();
  try {
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  const provisioner = new Provisioner({ ...deps.provisioner, store: deps.store, bus: deps.bus, runtime, logger: deps.logger });
  try {
    await provisioner.start();
  } catch (err) {
    await provisioner.stop().catch(() => undefined);
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        try {
          await provisioner.stop();
        } finally {
          await runtime.stop();
        }
      })();
      return stopping;
    },
  };
}
