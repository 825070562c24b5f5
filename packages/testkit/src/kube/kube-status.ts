import { qualifiedKind, qualifiedResource, type ResourceType } from './kube-resources.js';

/**
 * `Status` bodies worded as the real API server words them (k8s.io/apimachinery/pkg/api/errors), so that a
 * client's error handling (client-node's ApiException, kubectl's messages) is exercised for real.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class KubeApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): KubeApiError {
  const status: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new KubeApiError(status);
}

function resourceDetails(type: ResourceType, name: string): StatusDetails {
  return type.group ? { name, group: type.group, kind: type.plural } : { name, kind: type.plural };
}

export function notFound(type: ResourceType, name: string): KubeApiError {
  return failure(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, resourceDetails(type, name));
}

export function alreadyExists(type: ResourceType, name: string): KubeApiError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, resourceDetails(type, name));
}

export function conflict(type: ResourceType, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): KubeApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`, resourceDetails(type, name));
}

export interface FieldError {
  field: string;
  /** `Required value`, `Invalid value: "x"`, `Unsupported value: "x"`, `field is immutable`... */
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  detail: string;
  value?: unknown;
}

function describeFieldError(e: FieldError): string {
  const shown = e.value === undefined ? '' : `: ${typeof e.value === 'string' ? JSON.stringify(e.value) : JSON.stringify(e.value)}`;
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueInvalid':
      return `Invalid value${shown}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotSupported':
      return `Unsupported value${shown}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden':
      return `Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueDuplicate':
      return `Duplicate value${shown}`;
  }
}

/** 422 `Invalid`: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function invalid(type: ResourceType, name: string, errors: FieldError[]): KubeApiError {
  const causes = errors.map((e) => ({ reason: e.type, message: describeFieldError(e), field: e.field }));
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const details: StatusDetails = { name, kind: type.kind, causes };
  if (type.group) details.group = type.group;
  return failure(422, 'Invalid', `${qualifiedKind(type)} "${name}" is invalid: ${joined}`, details);
}

export function badRequest(message: string): KubeApiError {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): KubeApiError {
  return failure(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(contentType: string): KubeApiError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`);
}

export function unauthorized(): KubeApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function pathNotFound(): KubeApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

/** 410 `Expired`: a watch or continue token from before the retained history. */
export function gone(requested: string, oldest: number): KubeApiError {
  return failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

export function injected(code: number, message: string): KubeApiError {
  const reasons: Record<number, string> = { 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };
  return failure(code, reasons[code] ?? 'InternalError', message);
}

export function successStatus(type: ResourceType, name: string, uid?: string): StatusBody {
  const details: StatusDetails = { ...resourceDetails(type, name) };
  if (uid) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
