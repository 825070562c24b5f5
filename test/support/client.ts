import { colorClassifierOnnx, COLOR_LABELS, solidImage, type ImageFormat } from '@remotegpu/testkit';

/* eslint-disable @typescript-eslint/no-explicit-any -- end-to-end tests read arbitrary JSON */

export interface Reply {
  status: number;
  body: any;
}

export interface ServiceDetail {
  service_id: string;
  name: string;
  status: string;
  status_reason: string | null;
  status_message: string | null;
  replicas: number;
  ready_replicas: number;
  model_version: string;
  endpoint_url: string;
  gpu: number;
  [field: string]: unknown;
}

/** A user of the public API: REST under /api/v1, GraphQL over HTTP, and the data plane at `endpoint_url`. */
export class PlatformClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  private get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, 'accept-language': 'en' };
  }

  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    return this.fetchJson(`${this.url}/api/v1${path}`, method, body);
  }

  /** Any URL on the platform (the data plane's `endpoint_url`), with this client's token. */
  async fetchJson(url: string, method: string, body?: unknown): Promise<Reply> {
    const res = await fetch(url, {
      method,
      headers: { ...this.auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed };
  }

  async graphql(query: string, variables: Record<string, unknown> = {}): Promise<Reply> {
    return this.fetchJson(`${this.url}/graphql`, 'POST', { query, variables });
  }

  /** `framework` defaults to what `registerColorModel` registers. */
  /** Registers a model in a workspace through the REST API (the colour classifier's framework is `pytorch` by default). */
  async createModel(workspaceId: number, name: string, framework = 'pytorch'): Promise<number> {
    const data = await this.expectOk('POST', '/models', { name, workspace_id: workspaceId, framework, task: 'image-classification' }, 201);
    return data.model_id as number;
  }

  /** Uploads the colour classifier as a version (multipart, as a user's upload); `logits: false` is the softmax variant. */
  async uploadColorVersion(modelId: number, version: string, opts: { logits?: boolean } = {}): Promise<void> {
    const form = new FormData();
    form.set('version', version);
    form.set('labels', JSON.stringify(COLOR_LABELS));
    form.set('file', new Blob([new Uint8Array(colorClassifierOnnx({ logits: opts.logits ?? true }))]), 'model.onnx');
    const res = await fetch(`${this.url}/api/v1/models/${modelId}/versions`, { method: 'POST', headers: { authorization: `Bearer ${this.token}` }, body: form });
    if (res.status !== 201) throw new Error(`upload version ${version} → ${res.status} ${await res.text()}`);
  }

  async createService(input: Record<string, unknown>): Promise<string> {
    const res = await this.call('POST', '/inference/services', { framework: 'pytorch', cpu: 1, memory: 536870912, gpu: 0, ...input });
    if (res.status !== 201) throw new Error(`create service → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data.service_id as string;
  }

  async detail(id: string): Promise<ServiceDetail> {
    const res = await this.call('GET', `/inference/services/${id}`);
    if (res.status !== 200) throw new Error(`GET service ${id} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data as ServiceDetail;
  }

  async expectOk(method: string, path: string, body?: unknown, status = 200): Promise<any> {
    const res = await this.call(method, path, body);
    if (res.status !== status) throw new Error(`${method} ${path} → ${res.status} (wanted ${status}) ${JSON.stringify(res.body)}`);
    return res.body?.data;
  }

  async events(id: string): Promise<{ type: string; status: string; reason: string | null; message: string | null; at: string }[]> {
    return (await this.expectOk('GET', `/inference/services/${id}/events`)).items;
  }

  /** Polls the REST detail until `accept` holds; the error names the last state seen. */
  async waitForDetail(id: string, accept: (d: ServiceDetail) => boolean, what: string, timeoutMs = 30_000): Promise<ServiceDetail> {
    return waitFor(() => this.detail(id), accept, `${id} ${what}`, timeoutMs);
  }

  async waitRunning(id: string, replicas: number, timeoutMs = 30_000): Promise<ServiceDetail> {
    return this.waitForDetail(id, (d) => d.status === 'running' && d.ready_replicas === replicas && d.replicas === replicas, `running with ${replicas} ready`, timeoutMs);
  }
}

export type PredictPath = 'rest' | 'data-plane' | 'graphql';
export const PREDICT_PATHS: readonly PredictPath[] = ['rest', 'data-plane', 'graphql'];

export interface Prediction {
  class: string;
  confidence: number;
}

/** What one prediction came back as, whichever way it went: the HTTP status and the API's numeric code. */
export interface PredictOutcome {
  status: number;
  code: number;
  predictions: Prediction[] | null;
  raw: unknown;
}

const PREDICT_MUTATION = `mutation Predict($id: ID!, $inputs: JSONObject!, $parameters: JSONObject) {
  predict(serviceId: $id, inputs: $inputs, parameters: $parameters) { predictions { class confidence } }
}`;

/** One prediction through one of the three ways in (DESIGN §3/§4: same body, same answer, same errors). */
export async function predictVia(
  client: PlatformClient,
  path: PredictPath,
  service: { id: string; endpointUrl: string },
  imageBase64: string,
  parameters?: Record<string, unknown>,
): Promise<PredictOutcome> {
  const body = { inputs: { image: imageBase64 }, ...(parameters ? { parameters } : {}) };
  switch (path) {
    case 'rest': {
      const res = await client.call('POST', `/inference/services/${service.id}/predict`, body);
      return { status: res.status, code: res.body?.code ?? -1, predictions: res.body?.data?.predictions ?? null, raw: res.body };
    }
    case 'data-plane': {
      const res = await client.fetchJson(`${service.endpointUrl}/predict`, 'POST', body);
      return { status: res.status, code: res.body?.code ?? -1, predictions: res.body?.data?.predictions ?? null, raw: res.body };
    }
    case 'graphql': {
      const res = await client.graphql(PREDICT_MUTATION, { id: service.id, ...body });
      const error = res.body?.errors?.[0];
      if (error) return { status: error.extensions?.status ?? res.status, code: error.extensions?.code ?? -1, predictions: null, raw: res.body };
      return { status: res.status, code: 0, predictions: res.body?.data?.predict?.predictions ?? null, raw: res.body };
    }
  }
}

export type ColorName = (typeof COLOR_LABELS)[number];

/** Base64 of a solid-colour image (with the testkit's deterministic noise). */
export async function colorImage(color: ColorName, format: ImageFormat, width: number, height: number): Promise<string> {
  return (await solidImage(color, { format, width, height })).toString('base64');
}

/** A prediction is right when the expected class leads and the confidences are probabilities, sorted. */
export function predictionProblem(outcome: PredictOutcome, expected: ColorName): string | null {
  if (outcome.status !== 200) return `HTTP ${outcome.status} code ${outcome.code}: ${JSON.stringify(outcome.raw).slice(0, 300)}`;
  const predictions = outcome.predictions;
  if (!predictions || predictions.length === 0) return `no predictions: ${JSON.stringify(outcome.raw).slice(0, 300)}`;
  if (predictions[0].class !== expected) return `top class ${predictions[0].class}, expected ${expected}`;
  for (let i = 0; i < predictions.length; i++) {
    const c = predictions[i].confidence;
    if (!(c >= 0 && c <= 1)) return `confidence ${c} outside [0,1]`;
    if (i > 0 && c > predictions[i - 1].confidence) return `confidences not sorted descending: ${JSON.stringify(predictions)}`;
  }
  return null;
}

/**
 * Polls `probe` until `accept` holds or the deadline passes; the error quotes the last value seen, so a
 * timeout says where things got stuck. Polling, never a fixed sleep: fast when the platform is fast.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (accept(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = lastError !== undefined ? `error ${String(lastError)}` : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}; last seen: ${seen?.slice(0, 600)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
