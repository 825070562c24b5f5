import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig } from './gateway.config.js';

const required = { NATS_URL: 'nats://127.0.0.1:4222', RGPU_ROUTER_URL: 'http://127.0.0.1:8081/', RGPU_JWT_SECRET: 's'.repeat(32) };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('gateway process configuration', () => {
  it('needs NATS, a router and a shared secret, and says why for each', () => {
    const problems = problemsOf({});
    expect(problems.sort()).toEqual([
      expect.stringMatching(/^NATS_URL: required/),
      expect.stringMatching(/^RGPU_JWT_SECRET: required.*nothing is generated/),
      expect.stringMatching(/^RGPU_ROUTER_URL: required/),
    ]);
  });

  it('takes a MongoDB store URL (the store several hosts share)', () => {
    expect(loadGatewayConfig({ ...required, RGPU_STORE_URL: 'mongodb://mongo:27017/rgpu?replicaSet=rs0' }).storeUrl).toBe('mongodb://mongo:27017/rgpu?replicaSet=rs0');
    expect(loadGatewayConfig({ ...required, RGPU_STORE_URL: 'mongodb+srv://cluster.example.net/rgpu' }).storeUrl).toBe('mongodb+srv://cluster.example.net/rgpu');
    expect(problemsOf({ ...required, RGPU_STORE_URL: 'mongo://x' })).toEqual([expect.stringMatching(/^RGPU_STORE_URL: must be sqlite:<path> or mongodb/)]);
  });

  it('renders endpoint_url from the router unless RGPU_PUBLIC_URL names the public address', () => {
    const config = loadGatewayConfig({ ...required, RGPU_DATA_DIR: '/var/rgpu' });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      routerUrl: 'http://127.0.0.1:8081',
      publicUrl: 'http://127.0.0.1:8081',
      storeUrl: 'sqlite:/var/rgpu/rgpu.db',
      natsUrl: 'nats://127.0.0.1:4222',
      natsNaming: {},
      routerCallTimeoutMs: 35_000,
      routerConnectTimeoutMs: 3_000,
      maxBodyBytes: 10 * 1024 * 1024,
      graphql: { introspection: true, maxDepth: 8, maxCost: 5000 },
      httpTimeouts: { headersTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000 },
    });
    expect(loadGatewayConfig({ ...required, RGPU_PUBLIC_URL: 'https://infer.example.com/' }).publicUrl).toBe('https://infer.example.com');
  });

  it('takes the stream and subject prefix every process of one platform shares', () => {
    const config = loadGatewayConfig({ ...required, RGPU_NATS_STREAM: 'RGPU_TEST_1', RGPU_NATS_SUBJECT_PREFIX: 'rgputest.one' });
    expect(config.natsNaming).toEqual({ streamName: 'RGPU_TEST_1', subjectPrefix: 'rgputest.one' });
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      ...required,
      NATS_URL: 'http://nats',
      RGPU_ROUTER_URL: 'ftp://router',
      RGPU_JWT_SECRET: 'short',
      RGPU_ROUTER_CALL_TIMEOUT_MS: '0',
      PORT: 'eighty',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['NATS_URL', 'PORT', 'RGPU_JWT_SECRET', 'RGPU_ROUTER_CALL_TIMEOUT_MS', 'RGPU_ROUTER_URL']);
    expect(problemsOf({ ...required, RGPU_NATS_STREAM: 'a.b', RGPU_HTTP_BODY_TIMEOUT_MS: '0' }).map((p) => p.split(':')[0]).sort()).toEqual([
      'RGPU_HTTP_BODY_TIMEOUT_MS',
      'RGPU_NATS_STREAM',
    ]);
  });
});
