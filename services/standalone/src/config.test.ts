import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('standalone configuration', () => {
  it('runs on the embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: path.resolve('./data'),
      storeUrl: `sqlite:${path.resolve('./data/rgpu.db')}`,
      runtime: 'local',
      artifactRoots: [],
      artifactAllowPrivateHosts: false,
      maxBodyBytes: 10 * 1024 * 1024,
      queueBudgetMs: 3_000,
      graphql: { introspection: true, maxDepth: 8, maxCost: 5000 },
      httpTimeouts: { headersTimeoutMs: 10_000, bodyTimeoutMs: 20_000, bodyMinBytesPerSecond: 1024, keepAliveTimeoutMs: 65_000 },
    });
    expect(config.publicUrl).toBeUndefined();
    expect(config.jwtSecret).toBeUndefined();
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      PORT: '9000',
      RGPU_PUBLIC_URL: 'https://api.example.com/',
      RGPU_DATA_DIR: '/tmp/rgpu',
      RGPU_JWT_SECRET: 'x'.repeat(32),
      RGPU_ARTIFACT_ROOTS: `/srv/models${path.delimiter}/mnt/a`,
      RGPU_GRAPHQL_INTROSPECTION: 'false',
      RGPU_ROUTER_QUEUE_BUDGET_MS: '1500',
      RGPU_HTTP_HEADERS_TIMEOUT_MS: '5000',
      RGPU_HTTP_BODY_TIMEOUT_MS: '30000',
      RGPU_HTTP_BODY_MIN_BYTES_PER_S: '512',
      RGPU_HTTP_KEEP_ALIVE_TIMEOUT_MS: '75000',
    });
    expect(config).toMatchObject({
      port: 9000,
      publicUrl: 'https://api.example.com',
      dataDir: '/tmp/rgpu',
      storeUrl: 'sqlite:/tmp/rgpu/rgpu.db',
      artifactRoots: ['/srv/models', '/mnt/a'],
      graphql: { introspection: false },
      queueBudgetMs: 1500,
      httpTimeouts: { headersTimeoutMs: 5000, bodyTimeoutMs: 30_000, bodyMinBytesPerSecond: 512, keepAliveTimeoutMs: 75_000 },
    });
  });

  it('names every bad variable at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'eighty', RGPU_JWT_SECRET: 'short', RGPU_RUNTIME: 'docker', RGPU_PUBLIC_URL: 'ftp://x', RGPU_HTTP_BODY_TIMEOUT_MS: '0' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const named = error!.problems.map((p) => p.split(':')[0]).sort();
    expect(named).toEqual(['PORT', 'RGPU_HTTP_BODY_TIMEOUT_MS', 'RGPU_JWT_SECRET', 'RGPU_PUBLIC_URL', 'RGPU_RUNTIME']);
  });

  it('refuses adapters this version does not ship instead of ignoring them', () => {
    // MongoDB is for the separate processes; one process keeps SQLite.
    expect(() => loadConfig({ RGPU_STORE_URL: 'mongodb://db/rgpu' })).toThrowError(/RGPU_STORE_URL: npm start keeps its state in SQLite.*start:distributed/);
    // One process is the in-process bus; the separate processes over NATS have their own command.
    expect(() => loadConfig({ NATS_URL: 'nats://127.0.0.1:4222' })).toThrowError(/NATS_URL: .*npm run start:distributed/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });
});
