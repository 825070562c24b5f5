import { AppError, ErrorCode } from './errors.js';
import type { ServiceStatus } from './service.js';

/**
 * Every way a service's status may change. User intents come through the gateway; observations come
 * from the provisioner comparing the desired spec with what the runtime reports.
 */
export type LifecycleAction =
  | { type: 'stop' }
  | { type: 'start' }
  /** A spec change the runtime must roll out (replicas, version, resources). */
  | { type: 'respec' }
  | { type: 'replicasReady' }
  | { type: 'replicasStopped' }
  | { type: 'replicasLost' }
  | { type: 'fail' };

export type LifecycleActionType = LifecycleAction['type'];

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

function notAllowed(status: ServiceStatus, action: LifecycleActionType): AppError {
  return new AppError(ErrorCode.Conflict, {
    zh: `推理服务当前状态为 ${status}，不能执行 ${action}`,
    en: `The inference service is ${status}; ${action} is not allowed in that status`,
  });
}

/**
 * The lifecycle state machine. Returns the next status, or throws a 409 AppError when the action is not
 * allowed. Stop and start are idempotent: stopping a stopped service, or starting a running one, is a no-op.
 */
export function nextStatus(status: ServiceStatus, action: LifecycleAction): ServiceStatus {
  switch (action.type) {
    case 'stop':
      switch (status) {
        case 'creating':
        case 'running':
        case 'updating':
        case 'failed':
        case 'stopping':
          return 'stopping';
        case 'stopped':
          return 'stopped';
        default:
          return assertNever(status);
      }
    case 'start':
      switch (status) {
        case 'stopped':
        case 'failed':
        case 'stopping': // the provisioner sees desiredState=running and brings replicas back up
          return 'creating';
        case 'creating':
        case 'running':
        case 'updating':
          return status;
        default:
          return assertNever(status);
      }
    case 'respec':
      switch (status) {
        case 'running':
          return 'updating';
        case 'failed': // a corrected spec is a new attempt
          return 'creating';
        case 'creating':
        case 'updating':
        case 'stopping':
        case 'stopped':
          return status;
        default:
          return assertNever(status);
      }
    case 'replicasReady':
      switch (status) {
        case 'creating':
        case 'updating':
        case 'running':
          return 'running';
        case 'stopping':
        case 'stopped':
        case 'failed':
          throw notAllowed(status, action.type);
        default:
          return assertNever(status);
      }
    case 'replicasLost':
      // A crashed replica is not a spec change: the service keeps serving (readyReplicas tells the shortfall).
      switch (status) {
        case 'running':
        case 'creating':
        case 'updating':
          return status;
        case 'stopping':
        case 'stopped':
        case 'failed':
          throw notAllowed(status, action.type);
        default:
          return assertNever(status);
      }
    case 'replicasStopped':
      switch (status) {
        case 'stopping':
        case 'stopped':
          return 'stopped';
        case 'creating':
        case 'running':
        case 'updating':
        case 'failed':
          throw notAllowed(status, action.type);
        default:
          return assertNever(status);
      }
    case 'fail':
      switch (status) {
        case 'creating':
        case 'running':
        case 'updating':
        case 'failed':
          return 'failed';
        case 'stopping':
        case 'stopped':
          throw notAllowed(status, action.type);
        default:
          return assertNever(status);
      }
    default:
      return assertNever(action);
  }
}

/** Whether a service in this status accepts predictions (it may still have no ready replica: 503). */
export function acceptsTraffic(status: ServiceStatus): boolean {
  switch (status) {
    case 'creating':
    case 'running':
    case 'updating':
      return true;
    case 'stopping':
    case 'stopped':
    case 'failed':
      return false;
    default:
      return assertNever(status);
  }
}
