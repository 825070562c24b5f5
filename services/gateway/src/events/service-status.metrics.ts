import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { SERVICE_STATUSES, type InferenceService } from '@remotegpu/core';
import type { Store } from '@remotegpu/store';

const NAMES = ['rgpu_service_status', 'rgpu_service_replicas_desired', 'rgpu_service_replicas_ready'] as const;
/** One store read serves the three gauges of a scrape. */
const SNAPSHOT_MS = 1_000;

/**
 * Per-service gauges read from the store when scraped, as kube-state-metrics does for Deployments:
 * `rgpu_service_status{service,name,workspace,status}` 1 for the current status and 0 for the others (so a
 * `== 1` selector or `sum by (status)` works), `rgpu_service_replicas_desired` and `rgpu_service_replicas_ready`.
 * Deleted services have no series. Every gateway reports the same values (they read one store): aggregate with
 * `max by (service)` when several are scraped.
 */
export function registerServiceStatusMetrics(registry: Registry, store: Store, logger: Logger): void {
  for (const name of NAMES) registry.removeSingleMetric(name);
  let snapshot: { at: number; services: Promise<InferenceService[]> } | null = null;
  const services = (): Promise<InferenceService[]> => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at > SNAPSHOT_MS) {
      const read = store.services.listForReconcile().then(
        (all) => all.filter((s) => s.deletedAt === null),
        (err: unknown) => {
          // A store that does not answer leaves the gauges empty for this scrape rather than failing /metrics.
          logger.warn({ err }, 'service metrics: the store did not answer');
          return [];
        },
      );
      snapshot = { at: now, services: read };
    }
    return snapshot.services;
  };
  const labels = (s: InferenceService) => ({ service: s.id, name: s.name, workspace: String(s.workspaceId) });
  new Gauge({
    name: NAMES[0],
    help: 'Status of each inference service: 1 for its current status, 0 for the others',
    labelNames: ['service', 'name', 'workspace', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await services()) for (const status of SERVICE_STATUSES) this.set({ ...labels(s), status }, s.status === status ? 1 : 0);
    },
  });
  new Gauge({
    name: NAMES[1],
    help: 'Replicas each inference service should run (0 while stopped)',
    labelNames: ['service', 'name', 'workspace'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await services()) this.set(labels(s), s.desiredState === 'running' ? s.replicas : 0);
    },
  });
  new Gauge({
    name: NAMES[2],
    help: 'Replicas of each inference service that pass their readiness check',
    labelNames: ['service', 'name', 'workspace'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await services()) this.set(labels(s), s.readyReplicas);
    },
  });
}
