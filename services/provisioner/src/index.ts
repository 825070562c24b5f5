export { Provisioner, ProvisionerStoppedError, type ProvisionerOptions } from './provisioner.js';
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
export type { LeaderLease, LeaderTerm, LeaseRole } from './leader/leader-lease.port.js';
export { AlwaysLeader } from './leader/leader-lease.in-process.js';
export { NatsKvLease, connectNatsLease, LEASE_TIMING_DEFAULTS, type LeaseTiming, type NatsKvLeaseOptions } from './leader/leader-lease.nats.js';
export { startProvisionerTerm, type ProvisionerTermDeps } from './leader/provisioner.term.js';
export { artifactOf, gatewayArtifactUrl, FILE_DELIVERY, type ArtifactDelivery } from './artifact.delivery.js';
