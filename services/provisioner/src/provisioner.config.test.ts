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

  it('takes a MongoDB store URL (the store several hosts share)', () => {
    expect(loadProvisionerConfig({ NATS_URL: 'nats://127.0.0.1:4222', RGPU_STORE_URL: 'mongodb://mongo:27017/rgpu' }).storeUrl).toBe('mongodb://mongo:27017/rgpu');
    expect(problemsOf({ NATS_URL: 'nats://127.0.0.1:4222', RGPU_STORE_URL: 'mongodb:/bad' })).toEqual([expect.stringMatching(/^RGPU_STORE_URL: must be sqlite:<path> or mongodb/)]);
  });

  it('refuses to start without NATS (the in-process provisioner is `npm start`)', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^NATS_URL: required/)]);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      NATS_URL: 'http://x',
      RGPU_STORE_URL: 'postgres://db/rgpu',
      RGPU_RUNTIME: 'docker',
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

  describe('RGPU_RUNTIME=kubernetes', () => {
    const BASE = {
      NATS_URL: 'nats://127.0.0.1:4222',
      RGPU_RUNTIME: 'kubernetes',
      KUBECONFIG: '/etc/rgpu/kubeconfig',
      RGPU_K8S_NAMESPACE: 'rgpu-replicas',
      RGPU_K8S_IMAGE: 'registry.example.com/remotegpu:1.0',
      RGPU_ARTIFACT_BASE_URL: 'http://rgpu-gateway.rgpu:8080',
      RGPU_ARTIFACT_SECRET: 'x'.repeat(32),
    };

    it('reads the cluster, namespace, image, GPU placement and pull secrets', () => {
      const config = loadProvisionerConfig({
        ...BASE,
        RGPU_K8S_GPU_NODE_SELECTOR: 'nvidia.com/gpu.present=true,pool=a100',
        RGPU_K8S_TOLERATIONS: '[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]',
        RGPU_K8S_IMAGE_PULL_SECRETS: 'regcred, other-cred',
      });
      expect(config.runtime).toBe('kubernetes');
      expect(config.kubernetes).toEqual({
        kubeconfig: { kind: 'file', path: '/etc/rgpu/kubeconfig' },
        namespace: 'rgpu-replicas',
        image: 'registry.example.com/remotegpu:1.0',
        gpuNodeSelector: { 'nvidia.com/gpu.present': 'true', pool: 'a100' },
        gpuTolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        imagePullSecrets: ['regcred', 'other-cred'],
      });
      // The node selector may also be a JSON object.
      expect(loadProvisionerConfig({ ...BASE, RGPU_K8S_GPU_NODE_SELECTOR: '{"gpu":"yes"}' }).kubernetes?.gpuNodeSelector).toEqual({ gpu: 'yes' });
      // In a pod, without KUBECONFIG: the service account.
      const inCluster = loadProvisionerConfig({ ...BASE, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '10.96.0.1' });
      expect(inCluster.kubernetes?.kubeconfig).toEqual({ kind: 'in-cluster' });
      expect(loadProvisionerConfig({ NATS_URL: 'nats://127.0.0.1:4222' }).kubernetes).toBeUndefined();
    });

    it('names each missing or malformed variable', () => {
      expect(problemsOf({ NATS_URL: 'nats://127.0.0.1:4222', RGPU_RUNTIME: 'kubernetes' }).map((p) => p.split(':')[0]).sort()).toEqual([
        'KUBECONFIG',
        'RGPU_ARTIFACT_BASE_URL',
        'RGPU_K8S_IMAGE',
        'RGPU_K8S_NAMESPACE',
      ]);
      const problems = problemsOf({
        ...BASE,
        RGPU_K8S_NAMESPACE: 'Not_A_Namespace',
        RGPU_K8S_GPU_NODE_SELECTOR: 'gpu',
        RGPU_K8S_TOLERATIONS: '{"key":"x"}',
        RGPU_K8S_IMAGE_PULL_SECRETS: 'Bad Name',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'RGPU_K8S_GPU_NODE_SELECTOR',
        'RGPU_K8S_IMAGE_PULL_SECRETS',
        'RGPU_K8S_NAMESPACE',
        'RGPU_K8S_TOLERATIONS',
      ]);
      expect(problemsOf({ ...BASE, RGPU_K8S_TOLERATIONS: '[{"key":"g","operator":"Exists","value":"v"},{"effect":"Sometimes"},{"foo":1}]' })).toEqual([
        'RGPU_K8S_TOLERATIONS[0]: value must be empty with operator Exists',
        'RGPU_K8S_TOLERATIONS[1]: effect must be one of NoSchedule, PreferNoSchedule, NoExecute',
        'RGPU_K8S_TOLERATIONS[2]: unknown field(s) foo',
      ]);
    });
  });
});
