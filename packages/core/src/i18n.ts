import type { Language } from './errors.js';

/**
 * Chinese (the seed's language) unless the client prefers English, by `Accept-Language` quality order. One
 * rule for every HTTP entry point: gateway, router and model server.
 */
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
