import { describe, expect, it } from 'vitest';
import type { ModelVersion } from '@remotegpu/core';
import { artifactOf } from './artifact.delivery.js';

const version: ModelVersion = {
  modelId: 7,
  version: 'v1.0+rc',
  format: 'onnx',
  artifactPath: '/srv/rgpu/models/7/v1.0+rc/model.onnx',
  source: 'upload',
  sizeBytes: 1234,
  sha256: 'ab'.repeat(32),
  inputs: [],
  outputs: [],
  labels: ['a'],
  preprocessing: null,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('artifactOf', () => {
  it('file delivery: the stored file itself, no token', () => {
    expect(artifactOf(version, { kind: 'file' })).toEqual({
      uri: 'file:///srv/rgpu/models/7/v1.0+rc/model.onnx',
      sha256: version.sha256,
      sizeBytes: 1234,
      access: 'none',
    });
  });

  it('gateway delivery: uploads and file:// registrations from the artifact endpoint, with a token', () => {
    for (const source of ['upload', 'file:///models/m.onnx']) {
      expect(artifactOf({ ...version, source }, { kind: 'gateway', baseUrl: 'http://rgpu-gateway:8080' })).toEqual({
        uri: 'http://rgpu-gateway:8080/api/v1/artifacts/7/v1.0%2Brc',
        sha256: version.sha256,
        sizeBytes: 1234,
        access: 'artifact_token',
      });
    }
  });

  it('gateway delivery: an http(s) registration from its source, checked by its sha256, without a token', () => {
    const source = 'https://models.example.com/resnet.onnx?X-Amz-Signature=abc';
    expect(artifactOf({ ...version, source }, { kind: 'gateway', baseUrl: 'http://gw' })).toMatchObject({ uri: source, access: 'none', sha256: version.sha256 });
  });
});
