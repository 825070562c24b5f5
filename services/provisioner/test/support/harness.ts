import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { InProcessBus } from '@remotegpu/bus';
import {
  nextStatus,
  type InferenceService,
  type LifecycleAction,
  type ModelVersion,
  type ServiceEvent,
  type ServiceStatusEvent,
} from '@remotegpu/core';
import { openSqliteStore, type NewService, type ServicePatch, type SqliteStore } from '@remotegpu/store';
import { serviceFixture } from '@remotegpu/store/contract';
import { Provisioner, type ProvisionerOptions } from '../../src/index.js';
import { FakeRuntime, type FakeRuntimeOptions } from './fake-runtime.js';

export const silentLogger = pino({ level: 'silent' });

export type UserIntent = 'create' | 'update' | 'stop' | 'start' | 'delete';

/**
 * A real SQLite store in a temp dir, the real in-process bus, and the fake runtime; plus the writes the
 * gateway makes for each user action (desired spec + status through the lifecycle machine + history line),
 * optionally followed by the intent it publishes.
 */
export class Harness {
  readonly events: ServiceStatusEvent[] = [];
  readonly provisioners: Provisioner[] = [];
  modelId = 0;

  private constructor(
    readonly store: SqliteStore,
    readonly bus: InProcessBus,
    readonly runtime: FakeRuntime,
    private readonly dir: string,
  ) {}

  static async open(runtimeOptions: FakeRuntimeOptions = {}): Promise<Harness> {
    const dir = await mkdtemp(join(tmpdir(), 'rgpu-provisioner-'));
    const store = openSqliteStore({ path: join(dir, 'rgpu.db') });
    const bus = new InProcessBus({ logger: silentLogger });
    const harness = new Harness(store, bus, new FakeRuntime(runtimeOptions), dir);
    await bus.subscribe('service.status', (event) => {
      harness.events.push(event);
    });
    const model = await store.models.create({
      workspaceId: 7,
      name: 'colors',
      framework: 'onnx',
      task: 'image-classification',
      description: '',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    harness.modelId = model.id;
    await harness.addVersion('1.0.0');
    return harness;
  }

  provisioner(opts: Partial<ProvisionerOptions> = {}): Provisioner {
    const provisioner = new Provisioner({ store: this.store, bus: this.bus, runtime: this.runtime, logger: silentLogger, ...opts });
    this.provisioners.push(provisioner);
    return provisioner;
  }

  async addVersion(version: string): Promise<ModelVersion> {
    return this.store.models.addVersion({
      modelId: this.modelId,
      version,
      format: 'onnx',
      artifactPath: `/data/models/${this.modelId}/${version}/model.onnx`,
      source: 'upload',
      sizeBytes: 1234,
      sha256: version.replace(/\D/g, '').padEnd(64, 'f'),
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 8, 8] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 3] }],
      labels: ['red', 'green', 'blue'],
      preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      createdAt: new Date().toISOString(),
    });
  }

  async create(overrides: Partial<NewService> = {}, opts: { intent?: boolean } = {}): Promise<InferenceService> {
    const { service } = await this.store.services.create(
      serviceFixture({ workspaceId: 7, modelId: this.modelId, modelVersion: '1.0.0', ...overrides }),
    );
    if (opts.intent) await this.publishIntent('create', service);
    return service;
  }

  async stop(id: string, opts: { intent?: boolean } = {}): Promise<InferenceService> {
    return this.userWrite(id, 'stop', opts, (s) => ({
      patch: { desiredState: 'stopped', status: nextStatus(s.status, { type: 'stop' }), statusReason: 'stop_requested', statusMessage: null },
      type: 'stop_requested',
    }));
  }

  async start(id: string, opts: { intent?: boolean } = {}): Promise<InferenceService> {
    return this.userWrite(id, 'start', opts, (s) => ({
      patch: { desiredState: 'running', status: nextStatus(s.status, { type: 'start' }), statusReason: 'start_requested', statusMessage: null, readyReplicas: 0 },
      type: 'start_requested',
    }));
  }

  /** A spec change the runtime must act on: a new generation, and `respec` through the state machine. */
  async update(id: string, spec: Partial<Pick<InferenceService, 'replicas' | 'modelVersion' | 'gpu'>>, opts: { intent?: boolean } = {}): Promise<InferenceService> {
    return this.userWrite(id, 'update', opts, (s) => {
      const status = nextStatus(s.status, { type: 'respec' } satisfies LifecycleAction);
      return {
        patch: { ...spec, generation: s.generation + 1, status, ...(status !== s.status ? { statusReason: 'spec_changed', statusMessage: null } : {}) },
        type: 'updated',
      };
    });
  }

  async delete(id: string, opts: { intent?: boolean } = {}): Promise<InferenceService> {
    return this.userWrite(id, 'delete', opts, (s) => ({
      patch: { deletedAt: new Date().toISOString(), desiredState: 'stopped', status: nextStatus(s.status, { type: 'stop' }), statusReason: 'delete_requested' },
      type: 'delete_requested',
    }));
  }

  async publishIntent(intent: UserIntent, service: InferenceService, correlationId?: string): Promise<void> {
    await this.bus.publish('service.intent', {
      eventId: randomUUID(),
      serviceId: service.id,
      workspaceId: service.workspaceId,
      at: new Date().toISOString(),
      intent,
      generation: service.generation,
      ...(correlationId ? { correlationId } : {}),
    });
  }

  async get(id: string): Promise<InferenceService> {
    const service = await this.store.services.getIncludingDeleted(id);
    if (!service) throw new Error(`service ${id} is not in the store`);
    return service;
  }

  async history(id: string): Promise<ServiceEvent[]> {
    return this.store.services.listEvents(id);
  }

  /** Status-change lines the provisioner wrote, as `status` or `status:reason`. */
  async statusChanges(id: string): Promise<string[]> {
    return (await this.history(id)).filter((e) => e.type === 'status_changed').map((e) => (e.reason ? `${e.status}:${e.reason}` : e.status));
  }

  eventsFor(id: string): ServiceStatusEvent[] {
    return this.events.filter((e) => e.serviceId === id);
  }

  /** Statuses published for the service, consecutive repeats collapsed. */
  publishedStatuses(id: string): string[] {
    return this.eventsFor(id)
      .map((e) => (e.deleted ? 'deleted' : e.status))
      .filter((s, i, all) => i === 0 || all[i - 1] !== s);
  }

  async close(): Promise<void> {
    await Promise.all(this.provisioners.map((p) => p.stop()));
    await this.bus.close();
    await this.store.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async userWrite(
    id: string,
    intent: UserIntent,
    opts: { intent?: boolean },
    decide: (current: InferenceService) => { patch: ServicePatch; type: ServiceEvent['type'] },
  ): Promise<InferenceService> {
    const current = await this.get(id);
    const { patch, type } = decide(current);
    const at = new Date().toISOString();
    const service = await this.store.services.update(id, current.version, patch, {
      type,
      status: patch.status ?? current.status,
      reason: null,
      message: null,
      at,
    });
    if (opts.intent) await this.publishIntent(intent, service);
    return service;
  }
}

/** Lets the in-process bus deliver what was published (it delivers on a microtask, not inside `publish`). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls until `check` stops throwing (for the tests that run the real worker loop). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
