import type { Language, Localized } from './errors.js';
import type { ServiceEventType } from './service.js';

/**
 * Why a service shows its status, as data: a stable reason code (`status_reason`) and its parameters. The words
 * are chosen per request (`Accept-Language`, Chinese by default) from this catalog, so the provisioner and the
 * runtime never store a sentence in one language. The English text is also stored beside them (`status_message`):
 * logs read it, and it answers for a reason this catalog does not know or a record written before params existed.
 */
export type ReasonParams = Readonly<Record<string, string | number>>;

type Wording = (p: Readonly<Record<string, string>>) => Localized;
type EventWording = (p: Readonly<Record<string, string>>) => Localized | null;

/** Reasons the provisioner and the runtimes write, with the parameters each expects. */
const STATUS_REASONS: Readonly<Record<string, { params: readonly string[]; words: Wording }>> = {
  model_version_missing: {
    params: ['modelId', 'version'],
    words: (p) => ({
      zh: `模型 ${p.modelId} 没有版本 "${p.version}"；请注册该版本或修改 model_version`,
      en: `Model ${p.modelId} has no version "${p.version}"; register it or change model_version`,
    }),
  },
  replicas_unavailable: {
    params: ['ready', 'desired'],
    words: (p) => ({ zh: `${p.desired} 个副本中 ${p.ready} 个就绪`, en: `${p.ready} of ${p.desired} replicas ready` }),
  },
  gpu_request_exceeds_capacity: {
    params: ['requested', 'capacity'],
    words: (p) => ({
      zh: `每个副本请求 ${p.requested} 个 GPU，而本机只有 ${p.capacity} 个`,
      en: `requested ${p.requested} GPUs per replica; this machine has ${p.capacity}`,
    }),
  },
  insufficient_gpu: {
    params: ['waiting', 'gpus', 'free', 'total'],
    words: (p) => ({
      zh: `${p.waiting} 个副本正在等待各 ${p.gpus} 个空闲 GPU；本机 ${p.total} 个 GPU 中有 ${p.free} 个空闲`,
      en: `${p.waiting} replica(s) waiting for ${p.gpus} free GPUs each; ${p.free} of the ${p.total} GPUs of this machine are free`,
    }),
  },
  crash_loop: {
    params: ['failures', 'lastFailure'],
    words: (p) => ({
      zh: `副本连续 ${p.failures} 次未能就绪；最近一次: ${p.lastFailure}`,
      en: `replica failed to become ready ${p.failures} times in a row; last: ${p.lastFailure}`,
    }),
  },
  model_load_failed: {
    params: ['failures', 'lastFailure'],
    words: (p) => ({
      zh: `副本连续 ${p.failures} 次未能加载模型；最近一次: ${p.lastFailure}`,
      en: `replica failed to become ready ${p.failures} times in a row; last: ${p.lastFailure}`,
    }),
  },
  // Written by a runtime when a replica downloaded its model and the bytes have another sha256 than the version
  // registered: the source changed or was tampered with since registration. Restarting changes nothing; register
  // the artifact again as a new version.
  artifact_checksum_mismatch: {
    params: ['expected', 'actual'],
    words: (p) => ({
      zh: `模型文件的 sha256 为 ${p.actual}，与注册该版本时的 ${p.expected} 不一致；来源文件在注册后被更改，请重新上传或注册为新版本`,
      en: `the model artifact's sha256 is ${p.actual}, not the ${p.expected} registered for this version; the source changed since registration: upload it again or register a new version`,
    }),
  },
  // The same, found by the size: the download has another length than the version registered (the replica stops
  // reading at the registered size, so it never learns the digest of a larger file).
  artifact_size_mismatch: {
    params: ['expected', 'actual'],
    words: (p) => ({
      zh: `模型文件大小为 ${p.actual} 字节，与注册该版本时的 ${p.expected} 字节不一致；来源文件在注册后被更改，请重新上传或注册为新版本`,
      en: `the model artifact is ${p.actual} bytes, not the ${p.expected} bytes registered for this version; the source changed since registration: upload it again or register a new version`,
    }),
  },
  // A replica could not download its model (refused, unreachable, too large, too slow) on several starts in a row.
  artifact_fetch_failed: {
    params: ['failures', 'error'],
    words: (p) => ({
      zh: `副本连续 ${p.failures} 次未能下载模型文件；最近一次: ${p.error}`,
      en: `replica failed to download its model ${p.failures} times in a row; last: ${p.error}`,
    }),
  },
  // Written by the provisioner when an intent for the service was given up after its last delivery (the bus's
  // MaxDeliver): the status stays what it was, the reason says why nothing moves. The resync keeps trying.
  reconcile_failing: {
    params: ['deliveries', 'error'],
    words: (p) => ({
      zh: `处理该服务的变更连续 ${p.deliveries} 次失败，最近一次: ${p.error}；平台会继续定期重试`,
      en: `applying the latest change to this service failed ${p.deliveries} times in a row; last error: ${p.error}; the platform keeps retrying`,
    }),
  },
};

/** The gateway's lifecycle history lines (`GET /services/{id}/events`), by event type. */
const EVENT_WORDS: Partial<Record<ServiceEventType, EventWording>> = {
  stop_requested: () => ({ zh: '已请求停止', en: 'stop requested' }),
  start_requested: () => ({ zh: '已请求启动', en: 'start requested' }),
  delete_requested: () => ({ zh: '已请求删除', en: 'delete requested' }),
  updated: (p) => (p.fields === undefined ? null : { zh: `修改了 ${p.fields}`, en: `changed ${p.fields}` }),
};

function complete(expected: readonly string[], params: ReasonParams | null | undefined): Record<string, string> | null {
  if (!params) return null;
  const text: Record<string, string> = {};
  for (const name of expected) {
    const value = params[name];
    if (value === undefined) return null;
    text[name] = String(value);
  }
  return text;
}

/** A status reason in words, or null when the catalog does not know it (or its params are incomplete). */
export function describeStatusReason(reason: string | null, params: ReasonParams | null | undefined): Localized | null {
  const entry = reason === null ? undefined : STATUS_REASONS[reason];
  if (!entry) return null;
  const values = complete(entry.params, params);
  return values ? entry.words(values) : null;
}

/**
 * `status_message` as a request sees it: worded from reason and params in `lang`, else the stored text (a reason
 * the catalog does not know, or a record from before params were stored), else null.
 */
export function statusMessageIn(
  record: { statusReason: string | null; statusParams?: ReasonParams | null; statusMessage: string | null },
  lang: Language,
): string | null {
  return describeStatusReason(record.statusReason, record.statusParams)?.[lang] ?? record.statusMessage;
}

/** A history line's message in `lang`: a status change by its reason, the gateway's own lines by their type. */
export function eventMessageIn(
  event: { type: ServiceEventType; reason: string | null; params?: ReasonParams | null; message: string | null },
  lang: Language,
): string | null {
  if (event.type === 'status_changed') return describeStatusReason(event.reason, event.params)?.[lang] ?? event.message;
  const words = EVENT_WORDS[event.type];
  const worded = words ? words(Object.fromEntries(Object.entries(event.params ?? {}).map(([k, v]) => [k, String(v)]))) : null;
  return worded?.[lang] ?? event.message;
}

/** The English text stored beside a reason (for logs, and for readers that know no catalog). */
export function englishStatusMessage(reason: string, params: ReasonParams): string | null {
  return describeStatusReason(reason, params)?.en ?? null;
}
