import type { InferenceService, Language, Prediction, Preprocessing, TensorSpec } from '@remotegpu/core';
import type { Store } from '@remotegpu/store';
import type { ReplicaLogSource } from './logs.use-case.js';

export type { Prediction } from '@remotegpu/core';

export interface PredictRequest {
  /** base64 text of a PNG/JPEG/WebP, with an optional `data:image/...;base64,` prefix. */
  image: string;
  topK?: number;
}

/**
 * Per call: the caller's language, so that what a replica says (an image it cannot decode, scores that are not
 * numbers) comes back in it, and the request id that correlates the logs of every process on the way.
 */
export interface PredictCallOptions {
  language?: Language;
  requestId?: string;
  /**
   * The caller's `Authorization` header as received. A data plane in another process (distributed mode) gets the
   * caller's own bearer token, so it checks tenancy itself; the in-process router ignores it (the gateway checked).
   */
  authorization?: string;
}

/** The data plane as the gateway sees it: the router implements it. */
export interface Predictor {
  predict(service: InferenceService, request: PredictRequest, options?: PredictCallOptions): Promise<Prediction[]>;
}

export type ArtifactSource = { kind: 'file'; tempPath: string } | { kind: 'uri'; uri: string };

export interface IngestedArtifact {
  artifactPath: string;
  sizeBytes: number;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Stores a model artifact under the data directory and proves it loads (422 when it does not). */
export interface ArtifactIngest {
  ingest(source: ArtifactSource, target: { modelId: number; version: string }): Promise<IngestedArtifact>;
  /**
   * 422, naming each field to fix, when predict could not serve this version: not an image classifier, labels that
   * do not match its classes, preprocessing out of bounds or without the `size` a dynamic input needs.
   * `field` names the artifact in the request: `file` (upload) or `artifact_uri`.
   */
  checkServable(artifact: IngestedArtifact, version: { labels: string[]; preprocessing: Preprocessing | null }, field: 'file' | 'artifact_uri'): Promise<void>;
  /** Removes a stored artifact again (used when the version cannot be recorded). */
  discard(artifactPath: string): Promise<void>;
}

export type LifecycleIntent = 'create' | 'update' | 'stop' | 'start' | 'delete';

/** The request behind a change, carried into the intent (and from there the status events) for every process's logs. */
export interface CallTrace {
  /** The request's `x-request-id` (generated when the client sent none). */
  requestId?: string;
}

/** Tells the provisioner something changed; it re-reads the Store (level-triggered), so a lost intent only delays. */
export interface IntentPublisher {
  publish(intent: LifecycleIntent, service: InferenceService, trace?: CallTrace): Promise<void>;
}

export interface AppDeps {
  store: Store;
  /** Replica logs (`GET …/logs`); absent where this process holds no runtime (the distributed gateway). */
  logs?: ReplicaLogSource;
  artifacts: ArtifactIngest;
  predictor: Predictor;
  intents: IntentPublisher;
  publicUrl: string;
  now: () => Date;
}
