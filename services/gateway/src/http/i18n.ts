import type { Language, Localized } from '@remotegpu/core';

/** Chinese (the seed's language) unless the client prefers English. */
export function languageOf(acceptLanguage: string | undefined | null): Language {
  if (!acceptLanguage) return 'zh';
  const ranked = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)).find(Boolean);
      return { tag, q: q ? Number(q[1]) : 1 };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('en')) return 'en';
    if (tag.startsWith('zh')) return 'zh';
  }
  return 'zh';
}

export function localize(text: Localized, lang: Language): string {
  return text[lang];
}

/** Success messages of the seed document, and their English counterparts. */
export const MESSAGES = {
  success: { zh: 'success', en: 'success' },
  serviceCreated: { zh: '推理服务创建成功', en: 'Inference service created' },
  serviceStopping: { zh: '推理服务停止中', en: 'Inference service is stopping' },
  serviceStarting: { zh: '推理服务启动中', en: 'Inference service is starting' },
  serviceUpdated: { zh: '推理服务更新成功', en: 'Inference service updated' },
  serviceDeleted: { zh: '推理服务删除成功', en: 'Inference service deleted' },
  modelCreated: { zh: '模型创建成功', en: 'Model created' },
  modelVersionCreated: { zh: '模型版本上传成功', en: 'Model version uploaded' },
} as const satisfies Record<string, Localized>;
