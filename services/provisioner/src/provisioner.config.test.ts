import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '@remotegpu/core';
import { loadProvisionerConfig } from './provisioner.config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadProvisionerConfig(env);
  } catch (err) {
    if (isConfigError(err)) return [...err.problems];
    throw err;
  }
  return [];
}

describe('provisioner config', () => {
  it('needs only NATS_URL; everything else has a default', () => {
    const config = loadProvisionerConfig({ NATS_URL: 'nats://127.0.0.1:4222' });
    expect(config).toMatchObject({
      port: 8082,
      host: '127.0.0.1',
      dataDir: path.resolve('./data'),
      storeUrl: `sqlite:${path.resolve('./data/rgpu.db')}`,
      runtime: 'local',
      lease: { bucket: 'rgpu_leases', key: 'provisioner', ttlMs: 8000, renewMs: 2000, pollMs: 500 },
      resyncIntervalMs: 10_000,
      workers: 4,
      intentMaxDeliver: 5,
      natsNaming: {},
    });
    expect(config.localGpus).toBeUndefined();
  });

  it('refuses to start without NATS (the in-process provisioner is `npm start`)', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^NATS_URL: required/)]);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      NATS_URL: 'http://x',
      RGPU_STORE_URL: 'mongodb://db/rgpu',
      RGPU_RUNTIME: 'kubernetes',
      PROVISIONER_PORT: '70000',
      PROVISIONER_LEASE_TTL_MS: '4000',
      PROVISIONER_LEASE_RENEW_MS: '3000',
      PROVISIONER_LEASE_BUCKET: 'has space',
      PROVISIONER_INTENT_MAX_DELIVER: '0',
      RGPU_HTTP_HEADERS_TIMEOUT_MS: 'soon',
      RGPU_NATS_STREAM: 'bad.name',
    });
    for (const variable of [
      'NATS_URL',
      'RGPU_STORE_URL',
      'RGPU_RUNTIME',
      'PROVISIONER_PORT',
      'PROVISIONER_LEASE_RENEW_MS',
      'PROVISIONER_LEASE_BUCKET',
      'PROVISIONER_INTENT_MAX_DELIVER',
      'RGPU_HTTP_HEADERS_TIMEOUT_MS',
      'RGPU_NATS_STREAM',
    ]) {
      expect(problems.some((p) => p.startsWith(`${variable}:`)), `${variable} in ${JSON.stringify(problems)}`).toBe(true);
    }
  });

  it('derives the renewal period from a shorter TTL, and takes explicit lease settings', () => {
    expect(loadProvisionerConfig({ NATS_URL: 'nats://n:4222', PROVISIONER_LEASE_TTL_MS: '3000' }).lease).toMatchObject({ ttlMs: 3000, renewMs: 1000 });
    const config = loadProvisionerConfig({
      NATS_URL: 'nats://n:4222',
      PROVISIONER_LEASE_TTL_MS: '10000',
      PROVISIONER_LEASE_RENEW_MS: '3000',
      PROVISIONER_LEASE_KEY: 'provisioner.eu-1',
      RGPU_LOCAL_GPUS: '2',
      RGPU_DATA_DIR: '/srv/rgpu',
      RGPU_NATS_STREAM: 'RGPU_EU',
    });
    expect(config).toMatchObject({
      lease: { ttlMs: 10_000, renewMs: 3000, key: 'provisioner.eu-1' },
      localGpus: 2,
      storeUrl: 'sqlite:/srv/rgpu/rgpu.db',
      natsNaming: { streamName: 'RGPU_EU' },
    });
  });

  describe('model delivery', () => {
    const NATS = { NATS_URL: 'nats://n:4222' };

    it('reads the model from the data directory unless the gateway address is given', () => {
      expect(loadProvisionerConfig(NATS)).toMatchObject({ artifactDelivery: { kind: 'file' }, artifactTokenTtlMs: 3_600_000 });
      expect(loadProvisionerConfig(NATS).artifactSecret).toBeUndefined();
    });

    it('downloads from the gateway with tokens minted from RGPU_ARTIFACT_SECRET, else RGPU_JWT_SECRET', () => {
      const artifactSecret = 'a'.repeat(32);
      const config = loadProvisionerConfig({ ...NATS, RGPU_ARTIFACT_BASE_URL: 'http://rgpu-gateway:8080/', RGPU_ARTIFACT_SECRET: artifactSecret, RGPU_JWT_SECRET: 'j'.repeat(32), RGPU_ARTIFACT_TOKEN_TTL_MS: '600000' });
      expect(config).toMatchObject({ artifactDelivery: { kind: 'gateway', baseUrl: 'http://rgpu-gateway:8080' }, artifactSecret, artifactTokenTtlMs: 600_000 });
      expect(loadProvisionerConfig({ ...NATS, RGPU_ARTIFACT_BASE_URL: 'https://gw', RGPU_JWT_SECRET: 'j'.repeat(32) }).artifactSecret).toBe('j'.repeat(32));
    });

    it('names what is missing or wrong', () => {
      expect(problemsOf({ ...NATS, RGPU_ARTIFACT_BASE_URL: 'http://gw:8080' })).toEqual([expect.stringMatching(/^RGPU_ARTIFACT_SECRET: required with RGPU_ARTIFACT_BASE_URL/)]);
      const named = problemsOf({ ...NATS, RGPU_ARTIFACT_BASE_URL: 'ftp://gw', RGPU_ARTIFACT_SECRET: 'short', RGPU_ARTIFACT_TOKEN_TTL_MS: '10' }).map((p) => p.split(':')[0]);
      expect(named.sort()).toEqual(['RGPU_ARTIFACT_BASE_URL', 'RGPU_ARTIFACT_SECRET', 'RGPU_ARTIFACT_TOKEN_TTL_MS']);
    });
  });
});
