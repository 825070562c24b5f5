import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { artifactTokenIssuer, logsTokenVerifier } from '@remotegpu/auth';
import { connectBus } from '@remotegpu/bus';
import { applyHttpTimeouts } from '@remotegpu/http';
import { modelServerEntry } from '@remotegpu/model-server';
import { runMain, stdoutLogger } from '@remotegpu/process';
import { createRuntime, type Runtime } from '@remotegpu/runtime';
import { openStore } from '@remotegpu/store';
import { connectNatsLease } from './leader/leader-lease.nats.js';
import { startProvisionerTerm } from './leader/provisioner.term.js';
import { loadProvisionerConfig, type ProvisionerConfig } from './provisioner.config.js';
import { createOperationalServer } from './provisioner.http.js';

/**
 * The provisioner as its own process (distributed mode, DESIGN §2.1): intents from NATS JetStream, the shared
 * store, the local runtime. Any number may run; the one holding the NATS KV lease reconciles and runs the
 * replicas (as its children), the others stand by and take over within one lease TTL of its death.
 */
await runMain<ProvisionerConfig>({
  loadConfig: () => loadProvisionerConfig(),
  logger: (config) => stdoutLogger(config.logLevel, { service: 'provisioner' }),
  shutdownGraceMs: (config) => config.shutdownGraceMs,
  async start({ config, logger, started }) {
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const store = await openStore(config.storeUrl);
    started('store', { stop: () => store.close() });
    const bus = await connectBus({ natsUrl: config.natsUrl, logger: logger.child({ component: 'bus' }), connectionName: 'provisioner', nats: config.natsNaming });
    started('bus', { stop: () => bus.close() });
    const lease = await connectNatsLease({ natsUrl: config.natsUrl, logger, ...config.lease });
    const entry = modelServerEntry();
    // Replicas that download their model from the gateway get a token for that one artifact, minted per start.
    const artifactTokens = config.artifactSecret ? artifactTokenIssuer(config.artifactSecret, { ttlMs: config.artifactTokenTtlMs }) : undefined;

    new Gauge({
      name: 'rgpu_provisioner_leader',
      help: '1 while this process holds the provisioner lease and reconciles, else 0',
      registers: [metrics],
      collect() {
        this.set(lease.role() === 'leader' ? 1 : 0);
      },
    });
    let currentRuntime: Runtime | null = null;
    const server = createOperationalServer({
      metrics,
      busReady: () => bus.isReady(),
      storeReady: () => store.ping(),
      role: () => lease.role(),
      holder: lease.holder,
      // Gateways read replica logs here (distributed mode), with tokens derived from the secret artifact tokens use.
      ...(config.artifactSecret
        ? { logs: { opens: logsTokenVerifier(config.artifactSecret).opens, runtime: () => (lease.role() === 'leader' ? currentRuntime : null) } }
        : {}),
    });
    applyHttpTimeouts(server, config.httpTimeouts);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    started('http', {
      stop: () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        return closed;
      },
    });
    logger.info({ port: (server.address() as AddressInfo).port, host: config.host, holder: lease.holder }, 'provisioner listening');

    // Stopped first on SIGTERM: the term (loop, then replicas) ends while the lease is still held, then the lease
    // is released so a standby takes over within one poll.
    started('lease', lease);
    await lease.start(() =>
      startProvisionerTerm({
        store,
        bus,
        logger,
        createRuntime: () =>
          (currentRuntime = createRuntime(
            config.kubernetes
              ? // Replicas are Deployments on the cluster: they outlive this process and a new leader adopts them.
                { kind: 'kubernetes', kubernetes: { ...config.kubernetes, artifactTokens, logger: logger.child({ component: 'runtime' }) } }
              : {
                  kind: 'local',
                  local: {
                    modelServer: { command: process.execPath, args: [entry] },
                    // Shared by every provisioner of this data dir: a new leader's runtime kills what a crashed one left.
                    stateDir: path.join(config.dataDir, 'runtime'),
                    gpus: config.localGpus,
                    logger: logger.child({ component: 'runtime' }),
                    artifactTokens,
                  },
                },
          )),
        provisioner: {
          resyncIntervalMs: config.resyncIntervalMs,
          workers: config.workers,
          durableIntents: { maxDeliver: config.intentMaxDeliver },
          artifactDelivery: config.artifactDelivery,
        },
      }),
    );
  },
});
