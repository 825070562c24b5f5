export { Provisioner, type ProvisionerOptions } from './provisioner.js';
export { Reconciler, type ReconcilerOptions, type ReconcileOutcome } from './reconciler.js';
export {
  decideModelVersionMissing,
  decideRunning,
  decideStopped,
  readyEndpoints,
  runtimeSpec,
  REASONS,
  type StatusView,
} from './status.decision.js';
export { WorkQueue, type Wake, type WorkItem, type WorkQueueOptions } from './work-queue.js';
