import type { Language, Localized } from '@remotegpu/core';
export { languageOf } from '@remotegpu/core';


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
