import { describe, expect, it } from 'vitest';
import { errors } from './errors.js';
import { eventMessageIn, statusMessageIn } from './status-reasons.js';

describe('statusMessageIn', () => {
  it('words a known reason from its params in the request language', () => {
    const record = { statusReason: 'gpu_request_exceeds_capacity', statusParams: { requested: 2, capacity: 0 }, statusMessage: 'requested 2 GPUs per replica; this machine has 0' };
    expect(statusMessageIn(record, 'zh')).toBe('每个副本请求 2 个 GPU，而本机只有 0 个');
    expect(statusMessageIn(record, 'en')).toBe('requested 2 GPUs per replica; this machine has 0');
    const missing = { statusReason: 'model_version_missing', statusParams: { modelId: 7, version: 'v9' }, statusMessage: null };
    expect(statusMessageIn(missing, 'zh')).toBe('模型 7 没有版本 "v9"；请注册该版本或修改 model_version');
    const failing = { statusReason: 'reconcile_failing', statusParams: { deliveries: 5, error: 'disk full' }, statusMessage: null };
    expect(statusMessageIn(failing, 'zh')).toBe('处理该服务的变更连续 5 次失败，最近一次: disk full；平台会继续定期重试');
    expect(statusMessageIn(failing, 'en')).toBe('applying the latest change to this service failed 5 times in a row; last error: disk full; the platform keeps retrying');
  });

  it('words the artifact delivery reasons in both languages', () => {
    const mismatch = { statusReason: 'artifact_checksum_mismatch', statusParams: { expected: 'aaaa', actual: 'bbbb', failures: 3 }, statusMessage: null };
    expect(statusMessageIn(mismatch, 'zh')).toBe('模型文件的 sha256 为 bbbb，与注册该版本时的 aaaa 不一致；来源文件在注册后被更改，请重新上传或注册为新版本');
    expect(statusMessageIn(mismatch, 'en')).toBe(
      "the model artifact's sha256 is bbbb, not the aaaa registered for this version; the source changed since registration: upload it again or register a new version",
    );
    const size = { statusReason: 'artifact_size_mismatch', statusParams: { expected: 100, actual: '>100' }, statusMessage: null };
    expect(statusMessageIn(size, 'zh')).toBe('模型文件大小为 >100 字节，与注册该版本时的 100 字节不一致；来源文件在注册后被更改，请重新上传或注册为新版本');
    expect(statusMessageIn(size, 'en')).toBe(
      'the model artifact is >100 bytes, not the 100 bytes registered for this version; the source changed since registration: upload it again or register a new version',
    );
    const fetch = { statusReason: 'artifact_fetch_failed', statusParams: { failures: 3, error: 'GET http://gw/a answered 401' }, statusMessage: null };
    expect(statusMessageIn(fetch, 'zh')).toBe('副本连续 3 次未能下载模型文件；最近一次: GET http://gw/a answered 401');
    expect(statusMessageIn(fetch, 'en')).toBe('replica failed to download its model 3 times in a row; last: GET http://gw/a answered 401');
  });

  it('falls back to the stored text for an unknown reason or a row written before params existed', () => {
    expect(statusMessageIn({ statusReason: 'image_pull_failed', statusParams: { image: 'x' }, statusMessage: 'Back-off pulling image' }, 'zh')).toBe('Back-off pulling image');
    expect(statusMessageIn({ statusReason: 'replicas_unavailable', statusMessage: '1 of 2 replicas ready' }, 'zh')).toBe('1 of 2 replicas ready');
    expect(statusMessageIn({ statusReason: 'replicas_unavailable', statusParams: { ready: 1 }, statusMessage: 'old' }, 'zh')).toBe('old');
    expect(statusMessageIn({ statusReason: null, statusParams: null, statusMessage: null }, 'en')).toBeNull();
  });
});

describe('eventMessageIn', () => {
  it("words the gateway's history lines by type, and status changes by reason", () => {
    expect(eventMessageIn({ type: 'stop_requested', reason: null, message: 'stop requested' }, 'zh')).toBe('已请求停止');
    expect(eventMessageIn({ type: 'stop_requested', reason: null, message: 'stop requested' }, 'en')).toBe('stop requested');
    expect(eventMessageIn({ type: 'updated', reason: null, params: { fields: 'model_version, replicas' }, message: 'changed model_version, replicas' }, 'zh')).toBe('修改了 model_version, replicas');
    // An `updated` line from before params: its stored text.
    expect(eventMessageIn({ type: 'updated', reason: null, params: null, message: 'changed replicas' }, 'zh')).toBe('changed replicas');
    const change = { type: 'status_changed' as const, reason: 'replicas_unavailable', params: { ready: 1, desired: 3 }, message: '1 of 3 replicas ready' };
    expect(eventMessageIn(change, 'zh')).toBe('3 个副本中 1 个就绪');
    expect(eventMessageIn({ type: 'created', reason: null, message: null }, 'en')).toBeNull();
  });
});

describe('errors.notServing (409 on predict)', () => {
  it('says in one language that the service must be started', () => {
    const err = errors.notServing('svc-abc', 'stopping');
    expect(err.localized.zh).toBe(
      '推理服务 svc-abc 当前状态为停止中（stopping），不接受预测请求；请先启动服务（POST /api/v1/inference/services/svc-abc/start 或 GraphQL startInferenceService）',
    );
    expect(err.localized.en).toBe(
      'Inference service svc-abc is stopping and takes no predictions; start it first (POST /api/v1/inference/services/svc-abc/start, or the GraphQL mutation startInferenceService)',
    );
    expect(err.localized.en).not.toMatch(/[\u4e00-\u9fff]/);
    expect(errors.notServing('svc-abc', 'failed').localized.zh).toMatch(/当前状态为失败（failed）/);
  });
});
