import { describe, expect, it } from 'vitest';
import { ConfigError, loadRouterConfig } from './router.config.js';
import { languageOf } from './router.errors.js';

const secret = 's'.repeat(32);

describe('loadRouterConfig', () => {
  it('has the documented defaults', () => {
    const config = loadRouterConfig({ RGPU_JWT_SECRET: secret, RGPU_DATA_DIR: '/var/rgpu' });
    expect(config).toMatchObject({
      port: 8081,
      host: '127.0.0.1',
      storeUrl: 'sqlite:/var/rgpu/rgpu.db',
      requestTimeoutMs: 30_000,
      maxInFlightPerReplica: 8,
      maxQueuePerService: 256,
      queueBudgetMs: 3_000,
      httpTimeouts: { headersTimeoutMs: 10_000, bodyTimeoutMs: 20_000, bodyMinBytesPerSecond: 1024, keepAliveTimeoutMs: 65_000 },
      ejectAfterFailures: 3,
      ejectForMs: 10_000,
      maxBodyBytes: 10 * 1024 * 1024,
      logLevel: 'info',
    });
  });

  it('takes a MongoDB store URL (the store several hosts share)', () => {
    expect(loadRouterConfig({ RGPU_JWT_SECRET: secret, RGPU_STORE_URL: 'mongodb://mongo:27017/rgpu' }).storeUrl).toBe('mongodb://mongo:27017/rgpu');
    expect(() => loadRouterConfig({ RGPU_JWT_SECRET: secret, RGPU_STORE_URL: 'mongodb:/bad' })).toThrowError(/RGPU_STORE_URL: must be sqlite:<path> or mongodb/);
  });

  it('follows NATS when NATS_URL is set: a full store re-read every 30 s instead of every 2 s', () => {
    expect(loadRouterConfig({ RGPU_JWT_SECRET: secret }).resyncIntervalMs).toBe(2_000);
    const config = loadRouterConfig({ RGPU_JWT_SECRET: secret, NATS_URL: 'nats://127.0.0.1:4222', RGPU_NATS_STREAM: 'RGPU_T', RGPU_NATS_SUBJECT_PREFIX: 'rgput.x' });
    expect(config).toMatchObject({ natsUrl: 'nats://127.0.0.1:4222', resyncIntervalMs: 30_000, natsNaming: { streamName: 'RGPU_T', subjectPrefix: 'rgput.x' } });
    expect(() => loadRouterConfig({ RGPU_JWT_SECRET: secret, NATS_URL: 'localhost:4222' })).toThrowError(/NATS_URL: must be nats:\/\//);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadRouterConfig({ ROUTER_PORT: '70000', RGPU_ROUTER_MAX_IN_FLIGHT: 'many', RGPU_STORE_URL: 'postgres://x', RGPU_LOG_LEVEL: 'loud', RGPU_HTTP_HEADERS_TIMEOUT_MS: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['RGPU_JWT_SECRET', 'ROUTER_PORT', 'RGPU_ROUTER_MAX_IN_FLIGHT', 'RGPU_STORE_URL', 'RGPU_LOG_LEVEL', 'RGPU_HTTP_HEADERS_TIMEOUT_MS']) {
      expect(problems).toContain(name);
    }
  });
});

describe('languageOf', () => {
  it('is Chinese unless English ranks first', () => {
    expect(languageOf(undefined)).toBe('zh');
    expect(languageOf('en')).toBe('en');
    expect(languageOf('en-US,en;q=0.9')).toBe('en');
    expect(languageOf('zh-CN,en;q=0.8')).toBe('zh');
    expect(languageOf('fr, en;q=0.5, zh;q=0.9')).toBe('zh');
    expect(languageOf('de')).toBe('zh');
  });
});
