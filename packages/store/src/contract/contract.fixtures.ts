import { expect } from 'vitest';
import { isAppError, newServiceId, type ErrorCode, type ModelVersion } from '@remotegpu/core';
import type { NewModel, NewService, Store } from '../store.port.js';

/** A valid new service with a unique id and name; override what a test cares about. */
export function serviceFixture(overrides: Partial<NewService> = {}): NewService {
  const id = overrides.id ?? newServiceId();
  const now = new Date().toISOString();
  return {
    id,
    workspaceId: 1,
    name: `fixture-${id.slice(4)}`,
    description: '',
    modelId: 1,
    modelVersion: '1.0.0',
    framework: 'onnx',
    cpu: 1,
    memory: 2 * 1024 ** 3,
    gpu: 0,
    replicas: 1,
    desiredState: 'running',
    status: 'creating',
    statusReason: null,
    statusParams: null,
    statusMessage: null,
    readyReplicas: 0,
    endpoints: [],
    replicaStates: [],
    generation: 1,
    observedGeneration: 0,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    ...overrides,
  };
}

let modelCounter = 0;

export function modelFixture(overrides: Partial<NewModel> = {}): NewModel {
  const now = new Date().toISOString();
  modelCounter += 1;
  return {
    workspaceId: 1,
    name: `model-${modelCounter}-${newServiceId().slice(4, 10)}`,
    framework: 'onnx',
    task: 'image-classification',
    description: '',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function versionFixture(modelId: number, overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    modelId,
    version: '1.0.0',
    format: 'onnx',
    artifactPath: `/data/models/${modelId}/1.0.0/model.onnx`,
    source: 'upload',
    sizeBytes: 5_000_000_123,
    sha256: 'a'.repeat(64),
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 3] }],
    labels: ['cat', 'dog', '鸟'],
    preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A fixed timeline, so ordering tests do not depend on how fast the machine is. */
export function at(second: number): string {
  return new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
}

/** Awaits a promise that must reject with an AppError carrying `code`. */
export async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  const outcome = await promise.then(
    (value) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) expect.fail(`expected an AppError ${code}, but it resolved with ${JSON.stringify(outcome.value)}`);
  expect(isAppError(outcome.error), `expected an AppError, got ${String(outcome.error)}`).toBe(true);
  expect((outcome.error as { code: number }).code).toBe(code);
  return outcome.error;
}

/** The store under test, replaced before each test by the adapter's factory. */
export interface StoreHolder {
  readonly store: Store;
}
