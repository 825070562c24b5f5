import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorClassifierOnnx } from '@remotegpu/testkit';
import { DistributedStack } from '../support/distributed-stack.js';
import { colorImage, PlatformClient, predictionProblem, predictVia } from '../support/client.js';

const WS = 83;

/**
 * Model delivery as replicas on other hosts get it (DESIGN §2.1), end to end on one machine: the provisioner is told
 * the gateway's address (RGPU_ARTIFACT_BASE_URL), so its runtime hands each replica a URI, the sha256 and a token for
 * that one artifact instead of a path, and the replica downloads the model from the gateway's artifact endpoint,
 * verifies it and serves it. An artifact whose bytes no longer match the registered sha256 fails the service with
 * `artifact_checksum_mismatch`, worded in the caller's language.
 */
describe('model delivery through the gateway artifact endpoint (gateway, provisioner, router processes)', () => {
  let stack: DistributedStack;
  let api: PlatformClient;
  let modelId: number;

  beforeAll(async () => {
    // The provisioner needs the gateway's address, known once the gateway listens: started last, by hand.
    stack = await DistributedStack.start({ provisioners: 0 });
    await stack.spawn('provisioner', { RGPU_ARTIFACT_BASE_URL: stack.url, RGPU_ARTIFACT_TOKEN_TTL_MS: '60000' });
    api = new PlatformClient(stack.url, await stack.token({ sub: 'delivery', workspaces: [WS] }));
    modelId = await stack.registerColorModel(WS, api.token, 'v1');
    await stack.uploadVersion(modelId, 'v2', api.token);
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('a replica downloads its model from the gateway with its token, verifies it and serves', async () => {
    const id = await api.createService({ name: 'delivered', workspace_id: WS, model_id: modelId, model_version: 'v1', replicas: 1 });
    const detail = await api.waitRunning(id, 1, 60_000);
    const outcome = await predictVia(api, 'data-plane', { id, endpointUrl: detail.endpoint_url }, await colorImage('red', 'png', 64, 48));
    expect(predictionProblem(outcome, 'red')).toBeNull();

    const downloads = stack.gateways[0].logs().filter((line) => line.msg === 'artifact download');
    expect(downloads).toEqual([expect.objectContaining({ modelId, version: 'v1', bytes: colorClassifierOnnx().length })]);
    // What the replica runs is the verified copy in its own cache, under the platform's data directory.
    const sha = createHash('sha256').update(colorClassifierOnnx()).digest('hex');
    const replicas = path.join(stack.dataDir, 'runtime', 'replicas');
    const [replica] = (await readdir(replicas)).filter((name) => name.startsWith(id));
    const cached = path.join(replicas, replica, 'tmp', 'rgpu-model-cache', `${sha}.onnx`);
    expect((await readFile(cached)).equals(colorClassifierOnnx())).toBe(true);
  }, 90_000);

  it('an artifact changed after registration fails the service with artifact_checksum_mismatch, in the caller\'s language', async () => {
    // The stored bytes of v2 change behind the registry's back (a disk corrupted, a file replaced by hand).
    const stored = path.join(stack.dataDir, 'models', String(modelId), 'v2', 'model.onnx');
    const registered = createHash('sha256').update(await readFile(stored)).digest('hex');
    // Same size, other bytes: only the digest tells (a longer file is refused by its size: artifact_size_mismatch).
    const tampered = Buffer.from(await readFile(stored));
    tampered[tampered.length - 1] ^= 0xff;
    await rm(stored);
    await writeFile(stored, tampered);
    const actual = createHash('sha256').update(tampered).digest('hex');

    const id = await api.createService({ name: 'tampered', workspace_id: WS, model_id: modelId, model_version: 'v2', replicas: 1 });
    const failed = await api.waitForDetail(id, (d) => d.status === 'failed', 'failed', 60_000);
    expect(failed.status_reason).toBe('artifact_checksum_mismatch');
    expect(failed.status_message).toBe(
      `the model artifact's sha256 is ${actual}, not the ${registered} registered for this version; the source changed since registration: upload it again or register a new version`,
    );
    const zh = await fetch(`${stack.url}/api/v1/inference/services/${id}`, { headers: { authorization: `Bearer ${api.token}` } });
    expect(((await zh.json()) as { data: { status_message: string } }).data.status_message).toBe(
      `模型文件的 sha256 为 ${actual}，与注册该版本时的 ${registered} 不一致；来源文件在注册后被更改，请重新上传或注册为新版本`,
    );
    expect((await api.events(id)).some((e) => e.status === 'failed' && e.reason === 'artifact_checksum_mismatch')).toBe(true);
  }, 90_000);
});
