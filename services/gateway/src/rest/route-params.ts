import { errors, isServiceId, LIMITS } from '@remotegpu/core';
import { modelVersionNotFound } from '../application/models.delete.js';

/** Path parameters. An id that cannot exist is simply not found (404), like an unknown one: nothing to fix in it. */

/** Express types a parameter as `string | string[]` (wildcards); ours are always single segments. */
type RawParam = string | string[] | undefined;

function text(raw: RawParam): string {
  return typeof raw === 'string' ? raw : '';
}

export function serviceIdParam(raw: RawParam): string {
  const id = text(raw);
  if (!isServiceId(id)) throw errors.serviceNotFound(id.slice(0, 80));
  return id;
}

export function modelIdParam(raw: RawParam): number {
  const value = text(raw);
  const id = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : NaN;
  if (!(id <= LIMITS.idMax)) throw errors.modelNotFound(value.slice(0, 80));
  return id;
}

/** A version segment of the shape core accepts on upload; any other text cannot name a version (404). */
export function versionParam(raw: RawParam, modelId: number): string {
  const version = text(raw);
  if (version.length === 0 || version.length > LIMITS.versionMax || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) {
    throw modelVersionNotFound(modelId, version.slice(0, 80));
  }
  return version;
}
